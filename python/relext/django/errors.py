"""
Exceptions raised through Django's connections: each is Django's
IntegrityError and the relext class of the same name at once, so that
`except IntegrityError` (Django's) and `except relext.ProtectedError` both
catch a refused raw SQL delete.
"""
import relext
from django.db import IntegrityError

_classes = {}


def django_class(relext_class):
    """The class that is both IntegrityError and relext_class."""
    cls = _classes.get(relext_class)
    if cls is None:
        cls = type(relext_class.__name__, (IntegrityError, relext_class), {
            '__module__': __name__,
            '__doc__': relext_class.__doc__,
            '__init__': IntegrityError.__init__,
        })
        _classes[relext_class] = cls
    return cls


ProtectedError = django_class(relext.ProtectedError)
RestrictedError = django_class(relext.RestrictedError)
DanglingKeyError = django_class(relext.DanglingKeyError)
NullKeyError = django_class(relext.NullKeyError)
