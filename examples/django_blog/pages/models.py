"""The models of the Django relationships guide (pages/models.py there)."""
from django.db import models


class Category(models.Model):
    title = models.CharField(max_length=100)

    def __str__(self):
        return self.title


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self):
        return self.name


class Article(models.Model):
    # Deleting a category deletes its articles.
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name='articles',
    )
    # The author is optional: deleting the user keeps the article.
    author = models.ForeignKey(
        'auth.User',
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    title = models.CharField(max_length=200)
    content = models.TextField()
    tags = models.ManyToManyField(Tag, related_name='articles', blank=True)

    def __str__(self):
        return self.title


class Profile(models.Model):
    user = models.OneToOneField(
        'auth.User',
        on_delete=models.CASCADE,
        related_name='profile',
    )
    bio = models.TextField(blank=True)
    # A tag that is someone's favourite cannot be deleted.
    favorite_tag = models.ForeignKey(
        Tag,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name='fans',
    )

    def __str__(self):
        return f'Profile of {self.user.username}'
