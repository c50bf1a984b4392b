# The Datasette server of the catalog (previews, token-gated downloads, the site under /site/),
# run from the wheel built from this repository. Build and run:
#   docker build -t pzcat .
#   docker run -p 8001:8001 -e PZCAT_SECRET=... \
#     -e PZCAT_DATASETTE_URL=https://pz.example.org/ -e PZCAT_SITE_URL=https://pz.example.org/site/ pzcat
# PZCAT_SECRET (>= 16 characters) signs tokens and links: give it at run time, never here.
# PZCAT_DATASETTE_URL / PZCAT_SITE_URL replace catalog.yaml's public URLs (links, site metadata).
# tests/test_wheel.py starts `pzcat serve` from the wheel exactly as CMD below does.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pzcat ./pzcat
COPY pzcat_datasette ./pzcat_datasette
COPY pzcat_github ./pzcat_github
COPY pipelines ./pipelines
COPY site_builder ./site_builder
RUN pip wheel --no-cache-dir --no-deps -w /dist .

FROM python:3.11-slim
COPY --from=wheel /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist \
    && useradd --create-home --uid 10001 pzcat
WORKDIR /catalog
COPY catalog.yaml ./
COPY manifests ./manifests
COPY products ./products
COPY tokens ./tokens
ENV PZCAT_ROOT=/catalog \
    PZCAT_HOST=0.0.0.0 \
    PZCAT_PORT=8001
RUN pzcat build && chown -R pzcat:pzcat /catalog/build
USER 10001
EXPOSE 8001
CMD ["sh", "-c", "exec pzcat serve --host \"$PZCAT_HOST\" --port \"$PZCAT_PORT\""]
