"""A small vocabulary of IVOA UCD1+ words, enough to catch typos in manifests.

The full list is the IVOA UCD1+ controlled vocabulary; pzcat knows the words photo-z products use.
An unknown word is a warning (``unknown-ucd``), never an error.
"""

from __future__ import annotations

KNOWN_WORDS = frozenset(
    """
meta.id meta.main meta.curation meta.code meta.code.qual meta.code.class meta.code.error meta.note
meta.record meta.ref meta.ref.url meta.dataset meta.number meta.file meta.version meta.bib
meta.bib.author meta.title meta.unit meta.ucd meta.flag meta.modelled
pos.eq.ra pos.eq.dec pos.eq pos.galactic.lon pos.galactic.lat pos.healpix pos.angDistance
pos.errorEllipse pos.distance pos.posAng pos.frame pos.epoch
src.redshift src.redshift.phot src.redshift.spect src.class src.class.starGalaxy src.class.color
src.morph src.morph.type src.sample src.var src.spType src.net
stat.error stat.error.sys stat.rank stat.stdev stat.value stat.mean stat.median stat.min stat.max
stat.probability stat.likelihood stat.fit stat.fit.chi2 stat.snr stat.weight stat.covariance
stat.percentile stat.uncalib stat.param stat.nObs
phot.mag phot.flux phot.flux.density phot.color phot.mag.sb phot.calib phot.count phot.fluxRatio
phys.absmag phys.mass phys.luminosity phys.size phys.size.radius phys.veloc phys.SFR phys.distance
em.opt em.opt.U em.opt.B em.opt.V em.opt.R em.opt.I em.IR em.IR.J em.IR.H em.IR.K em.UV em.radio
em.X-ray em.wl time.epoch time.start time.end obs.field obs.exposure instr.filter instr.setup
instr.tel obs.atmos
""".split()
)


def unknown_words(ucd: str) -> list[str]:
    """Words of ``ucd`` (``;``-separated) not in the known vocabulary (case-insensitive)."""
    known = {w.lower() for w in KNOWN_WORDS}
    return [w for w in (p.strip() for p in ucd.split(";")) if w and w.lower() not in known]
