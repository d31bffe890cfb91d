# igmeta dashboard image: Streamlit app on the bundled IG data.
FROM python:3.11-slim

# Chromium serves kaleido's static image export (PNG/SVG/PDF) without a browser download.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium curl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BROWSER_PATH=/usr/bin/chromium \
    IGMETA_DB_PATH=/data/igmeta.sqlite3

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

RUN useradd --create-home --uid 10001 igmeta && mkdir -p /data && chown igmeta /data
USER igmeta

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl --fail http://localhost:8501/_stcore/health || exit 1
CMD ["python", "scripts/serve.py", "--server.port=8501", \
     "--server.address=0.0.0.0", "--server.headless=true"]
