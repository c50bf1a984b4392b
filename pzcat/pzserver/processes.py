"""Pipelines and their runs (``pzserver.pipeline``, ``pzserver.process``): Combine Redshift
Catalogs runs on pzcat; the Training Set Maker is answered "not available"."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pzcat.pzserver.client import PzServer


class Pipeline:
    """A pipeline of the server (``pzserver.pipeline.Pipeline``)."""

    def __init__(self, name: str, api: PzServer) -> None:
        data = api.source.pipeline(name)
        if data is None:
            raise ValueError(f"pipeline {name} is not available on this server")
        self._data = dict(data, name=name)
        self.acceptable_product_types = tuple(
            api.source.product_type(t) for t in data.get("product_types_accepted", [])
        )
        self.output_product_type = api.source.product_type(data.get("output_product_type"))

    pipeline_id = property(lambda self: self._data.get("id"))
    name = property(lambda self: self._data.get("name"))
    display_name = property(lambda self: self._data.get("display_name"))
    system_config = property(lambda self: self._data.get("system_config", {}))
    parameters = property(lambda self: self.system_config.get("param", {}))
    version = property(lambda self: self._data.get("version"))
    description = property(lambda self: self._data.get("description"))


class Process:
    """A pipeline run (``pzserver.process.Process``)."""

    def __init__(self, pipeline: str, name: str, api: PzServer) -> None:
        self._pz = api
        self.name = name
        self.comment = None
        self.pipeline = Pipeline(pipeline, api)
        self._config = dict(self.pipeline.parameters)
        self._process_config: dict = {}
        self._inputs: list[int] = []
        self._process: dict | None = None
        self._upload: dict | None = None

    def available_product_types(self):
        return [t.get("name") for t in self.pipeline.acceptable_product_types]

    def available_product_types_id(self):
        return [t.get("id") for t in self.pipeline.acceptable_product_types]

    @property
    def output(self):
        if not self._upload:
            return None
        return {k: self._upload.get(k) for k in ("id", "display_name", "internal_name")}

    @property
    def process(self):
        if not self._process:
            return None
        return {"output": self.output, "id": self._process.get("id"), "status": self.check_status()}

    @property
    def inputs(self):
        return self._inputs

    def append_input(self, input_id):
        self._inputs.append(input_id)

    def empty_input(self):
        self._inputs = []

    @property
    def config(self):
        return self._config

    @property
    def process_config(self):
        return self._process_config

    @property
    def used_config(self):
        return {"param": self.config, **self.process_config}

    def set_config(self, config: dict) -> None:
        for key, value in config.items():
            (self._process_config if key == "output_format" else self._config)[key] = value

    def get_product(self, product_id=None, internal_name=None):
        if product_id:
            product = self._pz.source.product(product_id)
        elif internal_name:
            found = self._pz.source.products({"internal_name": internal_name})
            product = found[0]
        else:
            raise ValueError("No product selected")
        if product.get("product_type") not in self.available_product_types_id():
            raise ValueError("Input is not of the expected type.")
        return product

    def summary(self, extra_info=None) -> None:
        print("-" * 30)
        print(f"{self.pipeline.display_name}: {self.name}")
        print(f"Configuration: {self.config}")
        if self.process_config:
            print(f"Process options: {self.process_config}")
        for line in extra_info or []:
            print(line)
        if self.output:
            print(f"Output: {self.output}")
        print(f"Status: {self.check_status()}")
        print("-" * 30)

    def _flags(self):
        return None

    def run(self):
        if self._process:
            print(f"Process has already been initialized: {self.process}")
            return {}
        data = {
            "display_name": self.name,
            "used_config": self.used_config,
            "pipeline": self.pipeline.pipeline_id,
            "inputs": self.inputs,
        }
        return self.submit(data)

    def submit(self, data, files=None):
        process = self._pz.source.start_process(data, self._flags())
        data["id"] = process.get("id")
        self._process = data
        self._upload = self._pz.source.product(process.get("upload"))
        return self.process

    def check_status(self):
        if not self._process:
            return "The process has not been started"
        return f"{self._pz.source.process(self._process.get('id')).get('status')}"

    def stop(self):
        if not self._process:
            return "No process is running"
        return self._pz.source.stop_process(self._process.get("id"))


class CRCProcess(Process):
    """Combine Redshift Catalogs (``pzserver.process.CRCProcess``)."""

    def __init__(self, name: str, api: PzServer) -> None:
        super().__init__("combine_redshift_dedup", name, api)
        self._default_flags = self.config.get("flags_translation_file")
        self._catalogs: list[dict] = []

    @property
    def input_catalogs(self):
        return self._catalogs

    def append_catalog(self, _id=None, internal_name=None):
        product = self.get_product(product_id=_id, internal_name=internal_name)
        if product.get("id") not in self.inputs:
            self._catalogs.append(
                {
                    "name": product.get("display_name"),
                    "internal_name": product.get("internal_name"),
                    "id": product.get("id"),
                }
            )
            self.append_input(product.get("id"))

    def set_flags_translation(self, flags_translation):
        self.set_config({"flags_translation_file": flags_translation})

    def _flags(self):
        value = self.config.get("flags_translation_file")
        return Path(value) if value and value != self._default_flags else None

    def summary(self, extra_info=None) -> None:
        extra = list(extra_info or [])
        if self.input_catalogs:
            extra.append(f"Input catalogs: {self.input_catalogs}")
        super().summary(extra_info=extra)


class TSMProcess(Process):
    """Training Set Maker (``pzserver.process.TSMProcess``); not available on pzcat servers."""

    def __init__(self, name: str, api: PzServer) -> None:
        super().__init__("training_set_maker", name, api)
        self._release = None
        self._redshift = None

    @property
    def release(self):
        return self._release

    def set_release(self, name=None, release_id=None):
        if release_id:
            self._release = next(r for r in self._pz.get_releases() if r["id"] == release_id)
        elif name:
            self._release = self._pz.source.release_by_name(name)
        else:
            raise ValueError("No release selected")

    @property
    def redshift(self):
        return self._redshift

    def set_redshift(self, _id=None, internal_name=None):
        self._redshift = self.get_product(product_id=_id, internal_name=internal_name)
        self.empty_input()
        self.append_input(self._redshift.get("id"))

    def run(self):
        if self._process:
            return {}
        return self.submit(
            {
                "pipeline": self.pipeline.pipeline_id,
                "used_config": self.used_config,
                "display_name": self.name,
                "release": (self.release or {}).get("id"),
                "inputs": self.inputs,
            }
        )
