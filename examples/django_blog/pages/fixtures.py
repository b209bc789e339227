"""The example's data, made through the ORM (python manage.py shell < ...)."""
from django.contrib.auth.models import User

from pages.models import Article, Category, Profile, Tag


def load():
    ada = User.objects.create(username='ada')
    linus = User.objects.create(username='linus')
    tech = Category.objects.create(title='Technology')
    life = Category.objects.create(title='Life')
    django = Tag.objects.create(name='django')
    sqlite = Tag.objects.create(name='sqlite')
    garden = Tag.objects.create(name='garden')
    a1 = Article.objects.create(category=tech, author=ada, title='SQLite internals', content='...')
    a2 = Article.objects.create(category=tech, author=linus, title='Django ORM', content='...')
    a3 = Article.objects.create(category=life, author=ada, title='Compost', content='...')
    a1.tags.add(sqlite)
    a2.tags.add(django, sqlite)
    a3.tags.add(garden)
    Profile.objects.create(user=ada, bio='counts', favorite_tag=sqlite)
    Profile.objects.create(user=linus, bio='kernels')
