FROM python:3.11-slim

WORKDIR /opt/kenkogo
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

ENV KENKOGO_STORAGE__DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 17680
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:17680/health')"
CMD ["python", "main.py", "serve"]
