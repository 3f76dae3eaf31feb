# One image for the API and the workers (the command differs).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd \
      fonts-liberation2 qpdf curl ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The accurate `vie` model and word pairs for the key fields (scripts/tessdata.sh).
ENV SOHOA_TESSDATA=/usr/local/share/sohoa/tessdata
COPY scripts/tessdata.sh scripts/tessdata.sh
RUN bash scripts/tessdata.sh
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY storage storage
COPY accounts accounts
COPY search search
COPY pipeline pipeline
COPY workers workers
COPY exchange exchange
COPY organs organs
COPY app app
COPY corpus corpus
# No extras: [project.dependencies] holds every run-time import. CI proves this install from
# exactly the files copied above (scripts/install-check.sh: --help, an ingest and a search).
RUN pip install --no-cache-dir .
RUN useradd -r -u 1000 sohoa && install -d -o sohoa -g sohoa /var/lib/sohoa
USER sohoa
# The embedded store and index, and the exchange keys: a folder this user may write.
ENV SOHOA_DATA_DIR=/var/lib/sohoa
CMD ["sohoa", "--help"]
