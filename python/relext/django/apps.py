from django.apps import AppConfig


class RelextConfig(AppConfig):
    name = 'relext.django'
    label = 'relext'
    verbose_name = 'relext'
