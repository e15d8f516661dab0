# Chatwire: multi-stage build on slim Python 3.11; runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY server ./server
COPY protocol ./protocol
COPY storage ./storage
COPY providers ./providers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8080 VAR_DIR=/data
# jemalloc instead of glibc's malloc: over a soak of 1,000 users the server's memory grew a third
# as fast (glibc leaves its freed space in pieces it cannot give back; docs/BENCHMARKS.md, Soak).
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 \
  && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=libjemalloc.so.2
RUN useradd --create-home --uid 10001 chatwire && mkdir -p /data/uploads && chown -R chatwire /data
COPY --from=build /install /usr/local
WORKDIR /app
# The app runs from its source tree (run.py's folder comes first on sys.path), so migrations/ and
# static/ sit where the code looks for them; /install holds the dependencies.
COPY run.py ./
COPY server ./server
COPY protocol ./protocol
COPY storage ./storage
COPY providers ./providers
COPY migrations ./migrations
COPY static ./static
COPY clients/js/src ./clients/js/src
USER chatwire
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8080\")}/healthz', timeout=2)"
# Migrations are applied on start (under yoyo's lock, so replicas may start together).
CMD ["python", "run.py", "serve"]
