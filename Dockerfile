# KenkoGo Master in a container: a non-root user, all state in the /data volume, tini as PID 1.
#
# The base is an argument so that the image builds where no registry of images is reachable:
#   docker build --build-arg BASE_IMAGE="$(bash scripts/docker-base.sh)" -t kenkogo-master .
# makes a Debian 12 base locally (debootstrap + docker import). Any Debian 12 based image works;
# what it lacks of Python (with venv), Node.js, tini and CA certificates is installed from
# Debian's packages.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS runtime
RUN set -eu; missing=""; \
    python3 -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3 python3-venv"; \
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"; \
    [ -x /usr/bin/tini ] || missing="$missing tini"; \
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"; \
    if [ -n "$missing" ]; then \
      apt-get update -qq; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi

# npm for Node apps, as the npm registry ships it: one self-contained package in /opt/npm.
# scripts/docker-base.sh puts it into the base; elsewhere Debian's npm (some 300 packages,
# ~300 MB, left behind in this stage) fetches it.
FROM runtime AS npm
ARG NPM_VERSION=10.9.9
RUN if [ ! -x /opt/npm/bin/npm ]; then \
      apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null \
      && npm install --global --prefix /opt/npm --no-audit --no-fund --loglevel=error "npm@${NPM_VERSION}"; \
    fi \
 && /opt/npm/bin/npm --version

# The Master's virtual environment and code; pip and the build's caches stay in this stage.
FROM runtime AS build
RUN python3 -m venv /opt/venv
COPY requirements.txt /opt/kenkogo/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --quiet \
      -r /opt/kenkogo/requirements.txt
COPY . /opt/kenkogo/
# The Master runs as a user that cannot write its own code: compile the catalogs and the
# bytecode here, so that start-up finds nothing stale to write.
RUN cd /opt/kenkogo \
 && /opt/venv/bin/python main.py compile-catalogs --force \
 && /opt/venv/bin/python -m compileall -q kenkogo_master migrations main.py

FROM runtime
ARG UID=10001
RUN groupadd --gid "${UID}" kenkogo \
 && useradd --uid "${UID}" --gid kenkogo --home-dir /home/kenkogo --create-home \
      --shell /usr/sbin/nologin kenkogo \
 && install -d -o kenkogo -g kenkogo -m 0750 /data
COPY --from=npm /opt/npm /opt/npm
# Apart, so that a change of code leaves the environment's layer as it was.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/kenkogo /opt/kenkogo
LABEL org.kenkogo.image="master"
# Everything the Master writes lives under /data: the database, the file area, logs, admin
# token and password, and (as apps are deployed) packages and app environments. A
# config.toml in /data is read too (the working directory).
ENV PATH=/opt/venv/bin:/opt/npm/bin:$PATH \
    KENKOGO_STORAGE__DATA_DIR=/data \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8
WORKDIR /data
VOLUME ["/data"]
USER kenkogo
EXPOSE 17680
# Asks /health on the port the settings say (KENKOGO_SERVER__PORT, else config.toml, else 17680).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/kenkogo/main.py", "healthcheck", "--timeout", "4"]
# SIGTERM (docker stop) reaches the Master through tini: it hands work over to the next start
# ([apps] stop_grace, 5 s at most) and exits 0, inside Docker's 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "python", "/opt/kenkogo/main.py"]
CMD ["serve"]
