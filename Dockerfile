# One image for every Paydesk process: web (uvicorn), Celery worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies before the code, so a code change reuses the installed layer.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install -r requirements/lock.txt

COPY . .

# Loading the settings needs a SECRET_KEY; this one exists only for this build step.
RUN SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 --no-create-home paydesk
USER paydesk

EXPOSE 8000
# Websocket messages uncompressed, as in docker-compose.yml and the Procfile (docs/benchmarks.md).
CMD ["uvicorn", "helpdesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--ws-per-message-deflate", "false"]
