-- The blog data of test/lookup.test (loaded into relext's and Django's tables).
INSERT INTO auth_user(id, username) VALUES (1, 'ada'), (2, 'linus'), (3, 'grace');
INSERT INTO profile(id, bio, user_id) VALUES (1, 'Counts things', 1), (2, 'Kernels', 2);
INSERT INTO category(id, title, parent_id) VALUES
  (1, 'Technology', NULL), (2, 'Life', NULL), (3, 'Databases', 1), (4, 'Empty', NULL);
INSERT INTO article(id, title, category_id, author_id, editor_id) VALUES
  (1, 'SQLite internals', 3, 1, 2),
  (2, 'Django ORM', 1, 2, NULL),
  (3, 'Gardening', 2, 1, 1),
  (4, 'Untitled draft', 2, NULL, NULL),
  (5, '100% test_coverage', 1, 3, NULL);
INSERT INTO tag(id, name) VALUES
  (1, 'django'), (2, 'sqlite'), (3, 'outdoors'), (4, 'unused'), (5, 'Python');
INSERT INTO article_tags(article_id, tag_id) VALUES
  (1, 2), (2, 1), (2, 2), (3, 3), (2, 5), (5, 5);
INSERT INTO tag_similar(from_tag_id, to_tag_id) VALUES (1, 5), (5, 1), (1, 2), (2, 1);
INSERT INTO person(id, name) VALUES (1, 'Ringo'), (2, 'Paul'), (3, 'Yoko');
INSERT INTO team(id, name) VALUES (1, 'The Beatles'), (2, 'Wings');
INSERT INTO membership(id, role, person_id, team_id) VALUES
  (1, 'drums', 1, 1), (2, 'bass', 2, 1), (3, 'lead', 2, 2);
