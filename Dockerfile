# fenxiao application image: the web (gunicorn), worker and beat services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=fenxiao.settings \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself is installed too, but PYTHONPATH=/app makes manage.py, gunicorn and celery
# all import the code in /app, so BASE_DIR (and STATIC_ROOT=/app/staticfiles) is /app.
COPY . .
RUN pip install --no-deps . \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/staticfiles \
    && chown app:app /app/staticfiles

USER app
EXPOSE 8000

# docker-compose.yml runs migrate and collectstatic before this, and sets the worker/beat commands.
CMD ["gunicorn", "fenxiao.wsgi:application", "--bind", "0.0.0.0:8000", "--no-control-socket", "--access-logfile", "-"]
