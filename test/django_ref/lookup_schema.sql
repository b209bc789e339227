-- The blog of test/lookup.test, in relext: tables, then relationships.
-- test/django_ref/lookup_ref.py builds the same tables with Django.
CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL);
CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE profile(id INTEGER PRIMARY KEY, bio TEXT NOT NULL);
CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE team(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE membership(id INTEGER PRIMARY KEY, role TEXT NOT NULL,
  person_id INTEGER NOT NULL, team_id INTEGER NOT NULL);
SELECT rel_define('category.parent', 'fk', 'self',
  'on_delete=models.SET_NULL, null=True, related_name="children"');
SELECT rel_define('article.category', 'fk', 'category',
  'on_delete=models.CASCADE, related_name="articles"');
SELECT rel_define('article.author', 'fk', 'auth.User',
  'on_delete=models.SET_NULL, null=True');
SELECT rel_define('article.editor', 'fk', 'auth_user',
  'on_delete=models.SET_NULL, null=True, related_name="+", related_query_name="edited"');
SELECT rel_define('article.tags', 'm2m', 'tag', 'related_name="articles"');
SELECT rel_define('profile.user', 'o2o', 'auth.User',
  'on_delete=models.CASCADE, related_name="profile"');
SELECT rel_define('tag.similar', 'm2m', 'self', '');
SELECT rel_define('membership.person', 'fk', 'person', 'on_delete=models.CASCADE');
SELECT rel_define('membership.team', 'fk', 'team', 'on_delete=models.CASCADE');
SELECT rel_define('team.members', 'm2m', 'person',
  'through="membership", through_fields=("team_id", "person_id"), related_name="teams"');
