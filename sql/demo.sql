-- demo.sql -- the blog of the Django relationships guide, in SQL.
-- Run with `make demo` (or: sqlite3 :memory: < sql/demo.sql after `make`).
.load ./relext
.headers on
.mode column

.print '== 1. Models: plain tables, as Django would create them'
CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL);
CREATE TABLE pages_category(id INTEGER PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE pages_article(id INTEGER PRIMARY KEY, title TEXT NOT NULL, content TEXT);
CREATE TABLE pages_tag(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE pages_profile(id INTEGER PRIMARY KEY, bio TEXT);

.print ''
.print '== 2. Relationships, declared like the fields of models.py'
.mode list
-- category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name='articles')
SELECT rel_define('pages_article',
  'category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="articles")') AS declared;
-- author = models.ForeignKey('auth.User', on_delete=models.SET_NULL, null=True, blank=True)
SELECT rel_define('pages_article.author', 'ForeignKey', 'auth.User',
  'on_delete=models.SET_NULL, null=True, blank=True') AS declared;
-- tags = models.ManyToManyField(Tag, related_name='articles', blank=True)
SELECT rel_define('pages_article.tags', 'ManyToManyField', 'pages.Tag',
  'related_name="articles", blank=True') AS declared;
-- user = models.OneToOneField('auth.User', on_delete=models.CASCADE, related_name='profile')
SELECT rel_define('pages_profile.user', 'OneToOneField', 'auth.User',
  'on_delete=models.CASCADE, related_name="profile"') AS declared;

.mode column
.print ''
.print '== The catalog'
SELECT model, field, kind, target, "column", on_delete, related_name, db_table
  FROM relext_relations;

.print ''
.print '== 3. Data'
INSERT INTO auth_user VALUES (1, 'ada'), (2, 'linus');
INSERT INTO pages_profile(id, bio, user_id) VALUES (1, 'Counts things', 1), (2, 'Kernels', 2);
INSERT INTO pages_category VALUES (1, 'Technology'), (2, 'Life');
INSERT INTO pages_article(id, title, content, category_id, author_id) VALUES
  (1, 'SQLite internals', '...', 1, 1),
  (2, 'Django ORM', '...', 1, 2),
  (3, 'Gardening', '...', 2, 1);
INSERT INTO pages_tag VALUES (1, 'django'), (2, 'sqlite'), (3, 'outdoors');
-- article.tags.add(tag): insert the pair; inserting it again is a no-op
INSERT INTO pages_article_tags(pages_article_id, pages_tag_id) VALUES (1, 2), (2, 1), (2, 2), (3, 3);
INSERT INTO pages_article_tags(pages_article_id, pages_tag_id) VALUES (2, 1);
SELECT * FROM pages_article_tags;

.print ''
.print '== 4. Accessor tables: related objects, like category.articles.all()'
.print '   pages_category__articles(1): the articles of category 1 (reverse ForeignKey)'
SELECT id, title FROM pages_category__articles(1);
.print '   pages_article__tags(2): the tags of article 2 (ManyToManyField)'
SELECT id, name FROM pages_article__tags(2);
.print '   pages_tag__articles: reverse ManyToManyField, tag.articles.all()'
SELECT pages_tag AS tag, id, title FROM pages_tag__articles WHERE pages_tag = 2;
.print '   auth_user__profile: reverse OneToOneField, user.profile'
SELECT auth_user AS user, bio FROM auth_user__profile WHERE auth_user = 1;
.print '   article.tags.add(tag) and tag.articles.create(...) through accessors'
INSERT INTO pages_article__tags(pages_article, id) VALUES (3, 1);
INSERT INTO pages_tag__articles(pages_tag, title, category_id) VALUES (3, 'Hiking', 2);
SELECT pages_article, name FROM pages_article__tags WHERE pages_article IN (3, 4) ORDER BY 1, 2;
.print '   article.tags.remove(tag): DELETE from the accessor unlinks'
DELETE FROM pages_article__tags WHERE pages_article = 3 AND name = 'django';
SELECT pages_article, name FROM pages_article__tags WHERE pages_article = 3;
.print '   category.articles.create(...)'
INSERT INTO pages_category__articles(pages_category, title) VALUES (2, 'Composting');
SELECT id, title, category_id FROM pages_article WHERE category_id = 2;

.print ''
.print '== 5. ForeignKey rules: a dangling key is refused'
INSERT INTO pages_article(id, title, category_id) VALUES (9, 'Orphan', 42);
.print '   ... but inside a transaction rows may come in any order'
BEGIN;
INSERT INTO pages_article(id, title, category_id) VALUES (10, 'Travel', 3);
INSERT INTO pages_category VALUES (3, 'Travel');
COMMIT;
SELECT id, title, category_id FROM pages_article;

.print ''
.print '== 6. on_delete=SET_NULL: deleting user linus keeps his article, without author'
.print '   (and CASCADE deletes his profile, the OneToOneField)'
DELETE FROM auth_user WHERE username = 'linus';
SELECT id, title, author_id FROM pages_article;
SELECT * FROM pages_profile;

.print ''
.print ''
.print '== 7. rel_collect: what deleting category Technology would do'
SELECT * FROM rel_collect('pages_category', 1);
.print ''
.print '== 8. on_delete=CASCADE: deleting a category deletes its articles and their tag links'
DELETE FROM pages_category WHERE title = 'Technology';
SELECT id, title, category_id FROM pages_article;
SELECT * FROM pages_article_tags;

.print ''
.print '== 9. on_delete=PROTECT: a category that articles protect cannot go'
CREATE TABLE pages_review(id INTEGER PRIMARY KEY, stars INTEGER);
.mode list
SELECT rel_define('pages_review.category', 'fk', 'pages.Category',
  'on_delete=models.PROTECT, related_name="reviews"') AS declared;
.mode column
INSERT INTO pages_review VALUES (1, 5, 2);
DELETE FROM pages_category WHERE id = 2;
SELECT id, title FROM pages_category;

.print ''
.print '== 10. Lookups across relationships: categories with an article tagged outdoors'
SELECT key FROM rel_lookup('pages_category', 'articles__tags__name', 'outdoors');
.print ''
.print '== 11. Everything holds: rel_check finds no violation'
SELECT count(*) AS violations FROM rel_check;
