# The production image: front-end assets built from the pinned npm manifest,
# Python dependencies from requirements.lock, served by gunicorn.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/src static/src
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# WeasyPrint's libraries and a font, for the committee report as PDF; PostgreSQL's
# client programs (15, as the database) for bin/backup and bin/restore.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir -c requirements.lock .
COPY . .
COPY --from=assets /app/node_modules/govuk-frontend/dist node_modules/govuk-frontend/dist
COPY --from=assets /app/node_modules/htmx.org/dist node_modules/htmx.org/dist
COPY --from=assets /app/static/build static/build
# var/ holds collected static files and, without object storage, uploaded files
# (var/media, a volume in docker-compose.yml).
RUN useradd --system --home /app monitor && mkdir -p /app/var/media && chown -R monitor /app/var
USER monitor
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
