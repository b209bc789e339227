-- scenario.sql -- the scenario every relext host runs (test/hosts.test).
--
-- The sqlite3 shell runs it as it is, from the repository root after `make`:
--   sqlite3 -cmd '.load ./relext' :memory: < test/hosts/scenario.sql
-- scenario.py (Python's sqlite3), scenario.js (better-sqlite3), scenario.tcl
-- (Tcl) and tool/static_demo (relext linked statically) read this file and
-- run it statement by statement through their own API, so the rules are:
-- one SQL statement per line; `.print "text"` prints text; other lines that
-- start with `.` or `--`, and empty lines, are skipped. Each host prints a
-- result row as its values joined by `|` (NULL as `NULL`) and an error as
-- `error CODE: MESSAGE` (CODE: the primary result code, 19 for
-- SQLITE_CONSTRAINT); the shell's `Runtime error near line N: MESSAGE (CODE)`
-- is read as the same line. Every host must print test/hosts/expected.txt.
.bail off
.mode list
.nullvalue NULL
CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT);
CREATE TABLE profile(id INTEGER PRIMARY KEY, bio TEXT);
.print "# define"
SELECT rel_define('article.category', 'ForeignKey', 'category', 'on_delete=models.CASCADE, related_name="articles"');
SELECT rel_define('article.author', 'ForeignKey', 'auth.User', 'on_delete=models.PROTECT, null=True, related_name="articles"');
SELECT rel_define('article.tags', 'ManyToManyField', 'tag', 'related_name="articles"');
SELECT rel_define('profile.user', 'OneToOneField', 'auth.User', 'on_delete=models.CASCADE, related_name="profile"');
INSERT INTO auth_user VALUES (1, 'alice'), (2, 'bob'), (3, 'carol');
INSERT INTO profile VALUES (1, 'likes SQL', 1), (2, 'likes Django', 3);
INSERT INTO category VALUES (1, 'tech'), (2, 'life');
INSERT INTO article VALUES (1, 'SQLite internals', 1, 1), (2, 'Django ORM', 1, 2), (3, 'Gardening', 2, NULL);
INSERT INTO tag VALUES (1, 'db'), (2, 'python');
INSERT INTO article_tags(article_id, tag_id) VALUES (1, 1), (2, 1), (2, 2), (3, 2);
INSERT INTO article_tags(article_id, tag_id) VALUES (1, 1);
.print "# accessors"
SELECT id, title FROM category__articles(1) ORDER BY id;
INSERT INTO category__articles(category, title) VALUES (2, 'Compost');
SELECT id, title, category_id FROM article WHERE category_id = 2 ORDER BY id;
SELECT name FROM article__tags(2) ORDER BY name;
SELECT username FROM profile__user WHERE profile = 2;
.print "# protect"
DELETE FROM auth_user WHERE id = 1;
SELECT count(*) FROM auth_user;
.print "# cascade"
DELETE FROM category WHERE id = 1;
SELECT id, title FROM article ORDER BY id;
SELECT article_id, tag_id FROM article_tags ORDER BY article_id, tag_id;
DELETE FROM auth_user WHERE id = 3;
SELECT id, user_id FROM profile ORDER BY id;
.print "# commit"
BEGIN;
INSERT INTO article(id, title, category_id) VALUES (10, 'Orphan', 42);
INSERT INTO category VALUES (3, 'kept?');
COMMIT;
SELECT count(*) FROM article WHERE id = 10;
SELECT count(*) FROM category WHERE id = 3;
BEGIN;
INSERT INTO article(id, title, category_id) VALUES (11, 'Early child', 4);
INSERT INTO category VALUES (4, 'late parent');
COMMIT;
SELECT title, category_id FROM article WHERE id = 11;
SELECT count(*) FROM rel_check;
