"""The models of the Django relationships guide, plus a through model and a
few more relationship options, for test/django.test."""
from django.db import models


class Category(models.Model):
    title = models.CharField(max_length=100)
    # Not in the guide: a self reference with SET_NULL.
    parent = models.ForeignKey('self', on_delete=models.SET_NULL, null=True,
                               blank=True, related_name='children')

    def __str__(self):
        return self.title


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self):
        return self.name


class Article(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE,
                                 related_name='articles')
    author = models.ForeignKey('auth.User', on_delete=models.SET_NULL,
                               null=True, blank=True)
    title = models.CharField(max_length=200)
    content = models.TextField()
    tags = models.ManyToManyField(Tag, related_name='articles', blank=True)
    # Not in the guide: to_field, a hidden reverse relation, db_column,
    # SET_DEFAULT.
    main_tag = models.ForeignKey(Tag, on_delete=models.SET_NULL, null=True,
                                 to_field='name', related_name='+',
                                 related_query_name='main_articles')
    editor = models.ForeignKey('auth.User', on_delete=models.SET_DEFAULT,
                               null=True, default=None, db_column='editor_user',
                               related_name='edited_articles')

    def __str__(self):
        return self.title


class Profile(models.Model):
    user = models.OneToOneField('auth.User', on_delete=models.CASCADE,
                                related_name='profile')
    bio = models.TextField(blank=True)

    def __str__(self):
        return f'Profile of {self.user.username}'


class Person(models.Model):
    name = models.CharField(max_length=128)
    friends = models.ManyToManyField('self', blank=True)

    def __str__(self):
        return self.name


class Group(models.Model):
    name = models.CharField(max_length=128)
    members = models.ManyToManyField(Person, through='Membership',
                                     related_name='member_of')

    def __str__(self):
        return self.name


class Membership(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    date_joined = models.DateField()
    invite_reason = models.CharField(max_length=64, blank=True)


class Review(models.Model):
    # Not in the guide: PROTECT.
    article = models.ForeignKey(Article, on_delete=models.PROTECT,
                                related_name='reviews')
    stars = models.IntegerField()
