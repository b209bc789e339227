-- The data of test/django.test, loaded into the tables `manage.py migrate`
-- made (plain SQL, no relext).
INSERT INTO auth_user(id, password, is_superuser, username, first_name,
  last_name, email, is_staff, is_active, date_joined) VALUES
  (1, '!', 0, 'ada', 'Ada', 'Lovelace', 'ada@example.org', 0, 1, '2024-01-01 00:00:00'),
  (2, '!', 0, 'linus', 'Linus', 'Torvalds', 'linus@example.org', 0, 1, '2024-01-01 00:00:00'),
  (3, '!', 0, 'grace', 'Grace', 'Hopper', 'grace@example.org', 1, 1, '2024-01-01 00:00:00');
INSERT INTO auth_group(id, name) VALUES (1, 'editors'), (2, 'readers');
INSERT INTO auth_group_permissions(id, group_id, permission_id) VALUES (1, 1, 1), (2, 1, 2), (3, 2, 1);
INSERT INTO auth_user_groups(id, user_id, group_id) VALUES (1, 1, 1), (2, 2, 1), (3, 2, 2);
INSERT INTO auth_user_user_permissions(id, user_id, permission_id) VALUES (1, 2, 3), (2, 3, 3);
INSERT INTO pages_category(id, title, parent_id) VALUES
  (1, 'Technology', NULL), (2, 'Life', NULL), (3, 'Databases', 1);
INSERT INTO pages_tag(id, name) VALUES (1, 'django'), (2, 'sqlite'), (3, 'outdoors');
INSERT INTO pages_article(id, title, content, category_id, author_id,
  main_tag_id, editor_user) VALUES
  (1, 'SQLite internals', '...', 3, 1, 'sqlite', 2),
  (2, 'Django ORM', '...', 1, 2, 'django', 1),
  (3, 'Gardening', '...', 2, 1, NULL, 2),
  (4, 'Travel', '...', 1, NULL, 'django', NULL);
INSERT INTO pages_article_tags(id, article_id, tag_id) VALUES
  (1, 1, 2), (2, 2, 1), (3, 2, 2), (4, 3, 3), (5, 4, 1);
INSERT INTO pages_profile(id, bio, user_id) VALUES (1, 'Counts things', 1), (2, 'Kernels', 2);
INSERT INTO pages_review(id, stars, article_id) VALUES (1, 5, 3);
INSERT INTO pages_person(id, name) VALUES (1, 'Ringo'), (2, 'Paul'), (3, 'John');
INSERT INTO pages_person_friends(id, from_person_id, to_person_id) VALUES
  (1, 1, 2), (2, 2, 1), (3, 2, 3), (4, 3, 2);
INSERT INTO pages_group(id, name) VALUES (1, 'The Beatles'), (2, 'Wings');
INSERT INTO pages_membership(id, person_id, group_id, date_joined, invite_reason) VALUES
  (1, 1, 1, '1962-08-16', ''), (2, 2, 1, '1960-01-01', ''),
  (3, 2, 2, '1971-08-01', 'new band'), (4, 3, 1, '1960-01-01', '');
