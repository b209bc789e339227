"""
The rel_define() calls that declare a Django model's relationships.

declarations(models) turns models into Declaration objects, one per
ForeignKey, OneToOneField (multi-table inheritance parent links included)
and ManyToManyField, and Exclusion objects for what relext cannot declare:

- GenericForeignKey and GenericRelation (contenttypes): no key column of
  their own that points at one table;
- a ForeignObject without a column of its own (several columns, or the
  columns of other fields);
- a ManyToManyField through a model whose ForeignKeys point at a to_field
  rather than the primary key, or whose keys are ForeignObjects or live in
  a parent table: the through model's own ForeignKeys are declared, and
  hold its rows to the rules;
- a relation to a model without a table (unmanaged models whose table does
  not exist are left out by the caller, which knows the database).

Django's effective names are always spelled out (related_name,
related_query_name): relext's defaults come from table names, Django's from
model names. Where Django computes something in Python that has no fixed
database value, the declaration is the closest rule that never lets a raw
SQL delete go wrong silently:

- on_delete=SET(callable), or SET_DEFAULT with a callable default: declared
  as DO_NOTHING. The ORM still runs the callable and updates the rows before
  it deletes the parent; a raw SQL DELETE leaves the key pointing at no row,
  which the COMMIT check refuses (relext.DanglingKeyError).
- a callable default with any other rule: the default is left out (it only
  matters to SET_DEFAULT).
- on_delete=SET(value) and default=value with a literal value: declared as
  such. A value that is a model instance stands for its primary key.
"""
from django.db import models
from django.db.models import NOT_PROVIDED

__all__ = ['Declaration', 'Exclusion', 'declarations', 'field_declaration']


def py_str(text):
    """`text` in relext's option syntax (a Python-like double-quoted string)."""
    out = text.replace('\\', '\\\\').replace('"', '\\"')
    out = out.replace('\n', '\\n').replace('\t', '\\t').replace('\r', '\\r')
    return '"' + out + '"'


def sql_str(text):
    return "'" + text.replace("'", "''") + "'"


def literal(value):
    """relext option text for a literal Python value, or None."""
    if isinstance(value, models.Model):
        value = value.pk
    if value is None:
        return 'None'
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    # UUID and the like are stored as text by Django's sqlite3 backend.
    import uuid
    if isinstance(value, uuid.UUID):
        return py_str(value.hex)
    return None


class Exclusion(Exception):
    """A relation that relext cannot declare, and why (a short category)."""

    def __init__(self, model, field, category, detail=''):
        self.model = model
        self.field = field
        self.category = category
        self.detail = detail
        super().__init__('%s.%s: %s%s' % (
            model._meta.label, field.name, category,
            ' (%s)' % detail if detail else ''))


class Declaration:
    """One rel_define(field, kind, target, options) call."""

    def __init__(self, model, field, kind, target, options, notes=()):
        self.model = model          # the Django model (class)
        self.field = field          # the Django field
        self.table = model._meta.db_table
        self.name = field.name
        self.kind = kind
        self.target = target
        self.options = ', '.join(options)
        self.notes = tuple(notes)   # approximations made (see the header)

    @property
    def label(self):
        """'model.field' as relext names it."""
        return '%s.%s' % (self.table, self.name)

    def params(self):
        """The arguments of rel_define, in order."""
        return (self.label, self.kind, self.target, self.options)

    def sql(self):
        """The call as an SQL statement."""
        return 'SELECT rel_define(%s);' % ', '.join(sql_str(p) for p in self.params())

    def key(self):
        return (self.table, self.name)

    def tables(self):
        """Every table the declaration names."""
        out = [self.table, self.target]
        if self.kind == 'ManyToManyField':
            out.append(self.field.remote_field.through._meta.db_table)
        return out

    def __eq__(self, other):
        return isinstance(other, Declaration) and self.params() == other.params()

    def __hash__(self):
        return hash(self.params())

    def __repr__(self):
        return '<Declaration %s>' % ' '.join(self.params())


def _describe(value):
    """A callable by its name, anything else by its repr."""
    if callable(value):
        return getattr(value, '__qualname__', None) or repr(value)
    return repr(value)


_RULES = ('CASCADE', 'PROTECT', 'RESTRICT', 'SET_NULL', 'SET_DEFAULT', 'DO_NOTHING')


def _on_delete(model, field, notes):
    fn = field.remote_field.on_delete
    for name in _RULES:
        if fn is getattr(models, name, None):
            if name == 'SET_DEFAULT' and callable(field.default):
                notes.append('SET_DEFAULT with default=%s (a callable) declared as DO_NOTHING'
                             % _describe(field.default))
                return 'DO_NOTHING'
            return name
    deconstruct = getattr(fn, 'deconstruct', None)
    if deconstruct is not None:
        path, args, _ = deconstruct()
        if path.endswith('.SET') and len(args) == 1:
            value = args[0]
            if not callable(value):
                text = literal(value)
                if text is not None:
                    return 'SET(%s)' % text
            notes.append('on_delete=SET(%s) declared as DO_NOTHING' % _describe(value))
            return 'DO_NOTHING'
    notes.append('on_delete=%s declared as DO_NOTHING' % _describe(fn))
    return 'DO_NOTHING'


def _format_name(name, model):
    """A related_name or related_query_name with %(class)s and the like
    filled in, as RelatedField.contribute_to_class() does."""
    if name and '%' in name:
        name = name % {
            'class': model.__name__.lower(),
            'model_name': model._meta.model_name,
            'app_label': model._meta.app_label.lower(),
        }
    return name


def _names(model, field, target, options):
    """
    related_name and related_query_name as Django computes them, from
    `model` (the field may not be bound to a model yet: the schema editor
    takes fields made on their own, and so do Django's schema tests).
    """
    remote = field.remote_field
    name = _format_name(remote.related_name, model)
    if name is None:
        symmetrical = field.many_to_many and remote.symmetrical and target is model
        if not symmetrical:
            name = model._meta.model_name + ('' if field.one_to_one else '_set')
    hidden = bool(name) and name.endswith('+')
    if name:
        options.append('related_name=' + py_str(name))
    query = _format_name(remote.related_query_name, model)
    if query is not None or not hidden:
        query = query or _format_name(remote.related_name, model) or model._meta.model_name
        options.append('related_query_name=' + py_str(query))
    db_constraint = getattr(field, 'db_constraint', None)
    if db_constraint is None:
        db_constraint = getattr(remote, 'db_constraint', True)
    options.append('db_constraint=%s' % bool(db_constraint))


def _target(model, field):
    """The model a relation points at (a field on its own may still name
    it as 'self' or 'app_label.ModelName')."""
    target = field.remote_field.model
    if isinstance(target, str):
        if target == 'self':
            return model
        try:
            if '.' not in target:
                target = '%s.%s' % (model._meta.app_label, target)
            return model._meta.apps.get_model(target)
        except LookupError:
            raise Exclusion(model, field, 'unresolved target', target)
    return target


def _fk(model, field):
    target = _target(model, field)
    if field.column is None or len(getattr(field, 'foreign_related_fields', ())) != 1:
        raise Exclusion(model, field, 'ForeignObject without a column of its own')
    kind = 'OneToOneField' if field.one_to_one else 'ForeignKey'
    notes = []
    options = ['on_delete=' + _on_delete(model, field, notes)]
    _names(model, field, target, options)
    options.append('null=%s' % bool(field.null))
    if field.default is not NOT_PROVIDED:
        if callable(field.default):
            if options[0] != 'on_delete=DO_NOTHING' or not notes:
                notes.append('default=%s (a callable) left out' % _describe(field.default))
        else:
            text = literal(field.default)
            if text is None:
                notes.append('default %r left out' % (field.default,))
            else:
                options.append('default=' + text)
    options.append('db_column=' + py_str(field.column))
    target_field = field.target_field
    if not target_field.primary_key:
        options.append('to_field=' + py_str(target_field.column))
    if kind == 'ForeignKey':
        options.append('db_index=%s' % bool(field.db_index))
    return Declaration(model, field, kind, target._meta.db_table, options, notes)


def _m2m(model, field):
    target = _target(model, field)
    through = field.remote_field.through
    if isinstance(through, str):
        raise Exclusion(model, field, 'unresolved target', through)
    through_meta = through._meta
    if not through_meta.auto_created:
        for name in (field.m2m_field_name(), field.m2m_reverse_field_name()):
            key = through_meta.get_field(name)
            if key.column is None:
                raise Exclusion(model, field, 'ManyToManyField through ForeignObjects',
                                through_meta.label)
            if key.model._meta.db_table != through_meta.db_table:
                raise Exclusion(
                    model, field,
                    'ManyToManyField through a model whose key is in a parent table',
                    '%s.%s' % (through_meta.label, name))
            if not key.target_field.primary_key:
                # relext links a ManyToManyField's rows by their primary
                # keys; the through model's own ForeignKeys (declared with
                # their to_field) hold its keys to the rules.
                raise Exclusion(
                    model, field,
                    'ManyToManyField through a model whose keys use to_field',
                    '%s.%s' % (through_meta.label, name))
    options = []
    _names(model, field, target, options)
    # An auto-created junction is adopted as relext's own (db_table): pairs
    # are unique, a symmetrical relation is mirrored, as Django's manager
    # keeps them. A through model's table is a table like any other.
    kind = 'db_table' if through_meta.auto_created else 'through'
    options.append('%s=%s' % (kind, py_str(through_meta.db_table)))
    options.append('through_fields=' + py_str(
        '%s, %s' % (field.m2m_column_name(), field.m2m_reverse_name())))
    options.append('symmetrical=%s' % bool(field.remote_field.symmetrical))
    return Declaration(model, field, 'ManyToManyField', target._meta.db_table, options)


def field_declaration(model, field):
    """The Declaration of one relation field, or raise Exclusion."""
    if getattr(field, 'remote_field', None) is None:
        raise Exclusion(model, field, 'GenericForeignKey')
    if field.one_to_many:
        raise Exclusion(model, field, 'GenericRelation')
    try:
        if field.many_to_many:
            return _m2m(model, field)
        return _fk(model, field)
    except (ValueError, LookupError) as e:
        # A target Django itself cannot resolve ('app.Model' of an app that
        # is not installed, a model known only to migrations).
        raise Exclusion(model, field, 'unresolved target', str(e))


def relation_fields(model):
    """
    The relation fields that model's table holds: (field, excluded reason or
    None). ForeignKeys and OneToOneFields first, then ManyToManyFields.
    Auto-created M2M junction models hold none of their own (their
    ManyToManyField declares them).
    """
    meta = model._meta
    if meta.proxy or meta.auto_created:
        return []
    out = []
    for field in meta.local_fields:
        if field.is_relation and (field.many_to_one or field.one_to_one):
            out.append(field)
    for field in meta.private_fields:
        if field.is_relation:
            out.append(field)
    out.extend(meta.local_many_to_many)
    return out


def declarations(models_, excluded=None):
    """
    The Declarations of models_' relations: every ForeignKey and
    OneToOneField first, then the ManyToManyFields, so that a through
    model's ForeignKeys come before the ManyToManyField that uses it.
    Exclusions are appended to `excluded` when it is a list.
    """
    fks, m2ms = [], []
    for model in models_:
        for field in relation_fields(model):
            try:
                decl = field_declaration(model, field)
            except Exclusion as e:
                if excluded is not None:
                    excluded.append(e)
                continue
            (m2ms if decl.kind == 'ManyToManyField' else fks).append(decl)
    return fks + m2ms
