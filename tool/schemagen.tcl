# schemagen.tcl -- a Django-shaped schema of many models and relationships,
# as SQL, for the scale benchmarks (tool/bench --only L,D,T) and
# test/scale.test.
#
#   tclsh tool/schemagen.tcl ?-rels N? ?-tables N? ?-rows N? ?-references?
#                            ?-part schema|define|data|all?
#
# Writes to standard output, deterministically (no randomness: the same
# arguments give the same text):
#   schema  CREATE TABLE statements: `-tables` tables (default 300) in apps
#           of ten models (app0_model0 ... ), Django's column layout
#           ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, a name
#           column), the key columns of every ForeignKey/OneToOneField and
#           the through tables of some ManyToManyFields (their two key
#           columns, an extra NOT NULL column); with -references the key
#           columns carry Django's `REFERENCES "t" ("id") DEFERRABLE
#           INITIALLY DEFERRED`;
#   define  one `SELECT rel_define(...)` per relationship: `-rels` of them
#           (default 1,000);
#   data    `-rows` rows per model table (default 2), every key pointing at
#           an existing row, so that rel_check is empty.
#
# The relationships, in this order until -rels is reached:
#   1. chains: in each app, model k has a ForeignKey to model k-1 with
#      on_delete=CASCADE (chains 10 deep);
#   2. self references: model 0 of each app, `parent` ForeignKey('self',
#      on_delete=CASCADE, null=True);
#   3. OneToOneFields from model 5 of each app to model 5 of the next app
#      (CASCADE);
#   4. ManyToManyFields: model 7 of each app to model 3 of the next app
#      (auto-created junction), and one per through model (its two
#      ForeignKeys, CASCADE, are relationships of their own, declared first);
#   5. ForeignKeys between apps, cycling through every on_delete rule:
#      CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT (default=1),
#      SET(1), DO_NOTHING, null=True where the rule needs it.
# Each relationship has its own related_name (r<n>), so no two reverse
# accessors clash.
set opt(-rels) 1000
set opt(-tables) 300
set opt(-rows) 2
set opt(-references) 0
set opt(-part) all
for {set i 0} {$i < [llength $argv]} {incr i} {
  set a [lindex $argv $i]
  switch -- $a {
    -references { set opt(-references) 1 }
    -rels - -tables - -rows - -part {
      incr i
      set opt($a) [lindex $argv $i]
    }
    default {
      puts stderr "usage: tclsh tool/schemagen.tcl ?-rels N? ?-tables N? ?-rows N? ?-references? ?-part schema|define|data|all?"
      exit 1
    }
  }
}
set nRels $opt(-rels)
set nTables $opt(-tables)
# About one table in six is a through table: the rest are models.
set nThrough [expr {$nTables / 6}]
set nModels [expr {$nTables - $nThrough}]
set nApps [expr {($nModels + 9) / 10}]

proc model {i} {
  return "app[expr {$i / 10}]_model[expr {$i % 10}]"
}

# The relationships: a list of dicts {model field kind target options col
# null}; col is the key column (FK/O2O) or "" (M2M).
set rels {}
set cols [dict create]   ;# table -> list of extra column definitions
set through {}           ;# through tables: {name src dst}
proc add {model field kind target options {null 0}} {
  global rels nRels cols
  if {[llength $rels] >= $nRels} { return 0 }
  set n [llength $rels]
  lappend rels [list $model $field $kind $target "$options, related_name=\"r$n\"" $null]
  if {$kind ne "ManyToManyField"} {
    set t [expr {$target eq "self" ? $model : $target}]
    dict lappend cols $model [list ${field}_id $t $null]
  }
  return 1
}

# 1. chains
for {set a 0} {$a < $nApps} {incr a} {
  for {set k 1} {$k < 10} {incr k} {
    set i [expr {$a * 10 + $k}]
    if {$i >= $nModels} break
    add [model $i] up ForeignKey [model [expr {$i - 1}]] "on_delete=CASCADE"
  }
}
# 2. self references
for {set a 0} {$a < $nApps} {incr a} {
  add [model [expr {$a * 10}]] parent ForeignKey self "on_delete=CASCADE, null=True" 1
}
# 3. one-to-one
for {set a 0} {$a < $nApps} {incr a} {
  set i [expr {$a * 10 + 5}]
  set j [expr {(($a + 1) % $nApps) * 10 + 5}]
  if {$i < $nModels && $j < $nModels && $i != $j} {
    add [model $i] twin OneToOneField [model $j] "on_delete=CASCADE"
  }
}
# 4. many-to-many: auto junctions, then through tables
for {set a 0} {$a < $nApps} {incr a} {
  set i [expr {$a * 10 + 7}]
  set j [expr {(($a + 1) % $nApps) * 10 + 3}]
  if {$i < $nModels && $j < $nModels} {
    add [model $i] links ManyToManyField [model $j] "blank=True"
  }
}
for {set t 0} {$t < $nThrough} {incr t} {
  set src [expr {($t * 7) % $nModels}]
  set dst [expr {($t * 13 + 1) % $nModels}]
  if {$src == $dst} { set dst [expr {($dst + 1) % $nModels}] }
  set name "through[expr {$t / 10}]_link[expr {$t % 10}]"
  lappend through [list $name [model $src] [model $dst]]
  add $name src ForeignKey [model $src] "on_delete=CASCADE"
  add $name dst ForeignKey [model $dst] "on_delete=CASCADE"
  add [model $src] via$t ManyToManyField [model $dst] \
    "through=\"$name\", through_fields=(\"src_id\", \"dst_id\")"
}
# 5. between apps, every rule in turn
set rules {CASCADE PROTECT RESTRICT SET_NULL SET_DEFAULT SET(1) DO_NOTHING}
set n 0
while {[llength $rels] < $nRels} {
  set i [expr {($n * 37 + 11) % $nModels}]
  set j [expr {($n * 53 + 29) % $nModels}]
  if {$i == $j} { set j [expr {($j + 1) % $nModels}] }
  set rule [lindex $rules [expr {$n % [llength $rules]}]]
  set o "on_delete=$rule"
  set null 0
  switch -- $rule {
    SET_NULL { append o ", null=True"; set null 1 }
    SET_DEFAULT { append o ", default=1, null=True"; set null 1 }
    SET(1) - DO_NOTHING { append o ", null=True"; set null 1 }
  }
  add [model $i] x$n ForeignKey [model $j] $o $null
  incr n
}

proc keydef {col target null} {
  global opt
  set d "\"$col\" integer [expr {$null ? "NULL" : "NOT NULL"}]"
  if {$opt(-references)} {
    append d " REFERENCES \"$target\" (\"id\") DEFERRABLE INITIALLY DEFERRED"
  }
  return $d
}

set parts [expr {$opt(-part) eq "all" ? {schema define data} : $opt(-part)}]
if {"schema" in $parts} {
  for {set i 0} {$i < $nModels} {incr i} {
    set t [model $i]
    set defs [list {"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT} {"name" varchar(100) NOT NULL}]
    if {[dict exists $cols $t]} {
      foreach c [dict get $cols $t] { lappend defs [keydef {*}$c] }
    }
    puts "CREATE TABLE \"$t\" ([join $defs {, }]);"
  }
  foreach th $through {
    lassign $th name src dst
    set defs [list {"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT} \
                [keydef src_id $src 0] [keydef dst_id $dst 0] {"since" integer NOT NULL DEFAULT 0}]
    puts "CREATE TABLE \"$name\" ([join $defs {, }]);"
    puts "CREATE UNIQUE INDEX \"${name}_uniq\" ON \"$name\" (\"src_id\", \"dst_id\");"
  }
}
if {"define" in $parts} {
  foreach r $rels {
    lassign $r model field kind target options
    puts "SELECT rel_define('$model.$field', '$kind', '$target', '$options');"
  }
}
if {"data" in $parts} {
  # Rows 1..rows of every model; row r's keys point at row r of their
  # target (one-to-one keys stay distinct); self references are NULL.
  puts "BEGIN;"
  for {set i 0} {$i < $nModels} {incr i} {
    set t [model $i]
    set names {"id" "name"}
    set keys {}
    if {[dict exists $cols $t]} {
      foreach c [dict get $cols $t] {
        lassign $c col target null
        lappend names "\"$col\""
        lappend keys [expr {$target eq $t}]
      }
    }
    for {set r 1} {$r <= $opt(-rows)} {incr r} {
      set vals {}
      foreach self $keys { lappend vals [expr {$self ? "NULL" : $r}] }
      puts "INSERT INTO \"$t\" ([join $names {, }]) VALUES ([join [concat $r '$t-$r' $vals] {, }]);"
    }
  }
  foreach th $through {
    lassign $th name
    puts "INSERT INTO \"$name\" (\"id\", \"src_id\", \"dst_id\") VALUES (1, 1, 1);"
  }
  puts "COMMIT;"
}
