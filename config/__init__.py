"""Project configuration package (named ``config`` so it cannot shadow the stdlib ``platform``)."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
