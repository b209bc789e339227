"""Models of test_django_backend.py (their tables are made by the tests)."""
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Code(models.Model):
    code = models.CharField(max_length=20, primary_key=True)


class Book(models.Model):
    author = models.ForeignKey(Author, models.PROTECT, related_name='books')
    code = models.ForeignKey(Code, models.CASCADE, null=True, to_field='code')
    editor = models.ForeignKey(Author, models.SET_NULL, null=True, related_name='+')
    readers = models.ManyToManyField(Author, related_name='read')
