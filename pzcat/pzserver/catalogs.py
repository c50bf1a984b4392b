"""Table products with their metadata and plots (``pzserver.catalog``)."""

from __future__ import annotations

from pzcat.pzserver.display import display_table


class Catalog:
    """A table product with its metadata (``pzserver.catalog.Catalog``)."""

    def __init__(self, data=None, metadata=None, metadata_df=None) -> None:
        self.data = data
        self.metadata = metadata
        self.metadata_df = metadata_df
        self.columns = (metadata or {}).get("main_file", {}).get("columns_association") or []

    def display_metadata(self) -> None:
        display_table(self.metadata_df)

    def _column(self, ucd: str) -> str | None:
        return next((c["column_name"] for c in self.columns if c.get("ucd") == ucd), None)


class SpeczCatalog(Catalog):
    """A reference redshift catalog; :meth:`plot` shows the sky and n(z)."""

    def plot(self, savefig: bool = False):
        import matplotlib.pyplot as plt

        ra, dec, z = (
            self._column(u) for u in ("pos.eq.ra;meta.main", "pos.eq.dec;meta.main", "src.redshift")
        )
        if None in (ra, dec, z):
            print(f"Error: Values unknown\nRA: {ra}, Dec: {dec}, Redshift: {z}")
            return None
        plt.figure(figsize=[8, 3])
        plt.subplot(121)
        plt.scatter(self.data[ra], self.data[dec], s=2)
        plt.xlabel(f"{ra} (deg)")
        plt.ylabel(f"{dec} (deg)")
        plt.subplot(122)
        plt.hist(self.data[z], bins=30)
        plt.xlabel(z)
        plt.ylabel("counts")
        plt.tight_layout()
        if savefig:
            plt.savefig("specz_catalog.png")
            return "specz_catalog.png"
        return None


class TrainingSet(Catalog):
    """A training set; :meth:`plot` shows n(z) (and a magnitude when given)."""

    def plot(self, mag_name: str | None = None, savefig: bool = False):
        import matplotlib.pyplot as plt

        z = self._column("src.redshift")
        if z is None:
            print("Error: Redshift unknown")
            return None
        if mag_name is None:
            plt.hist(self.data[z], bins=30)
            plt.xlabel(z)
        else:
            plt.figure(figsize=[12, 4])
            plt.subplot(131)
            plt.hist(self.data[mag_name], bins=30)
            plt.xlabel(mag_name)
            plt.subplot(132)
            plt.hist(self.data[z], bins=30)
            plt.xlabel(z)
            plt.subplot(133)
            plt.plot(self.data[z], self.data[mag_name], ".")
            plt.xlabel(z)
            plt.ylabel(mag_name)
        plt.tight_layout()
        if savefig:
            plt.savefig("train_set.png")
            return "train_set.png"
        return None
