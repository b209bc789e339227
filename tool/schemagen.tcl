# schemagen.tcl -- a Django-shaped schema of many models and relationships,
# as SQL, for the scale benchmarks (tool/bench: L, R, D, T and M rows) and
# test/scale.test.
#
#   tclsh tool/schemagen.tcl ?-rels N? ?-tables N? ?-rows N? ?-references?
#                            ?-part schema|define|json|data|all|summary|edges?
#
# Writes to standard output, deterministically (no randomness: the same
# arguments give the same text):
#   schema   CREATE TABLE statements: `-tables` tables (default 300) in
#            apps of ten models (app0_model0 ...) and through tables
#            (through0_link0 ...), in Django's layout: "id" integer NOT NULL
#            PRIMARY KEY AUTOINCREMENT, a name column, the key column of
#            every ForeignKey/OneToOneField ("<field>_id", UNIQUE for a
#            OneToOneField) with the index Django makes for it, and the
#            junction table of every ManyToManyField without a through
#            table, as Django's migrations create it (relext adopts it); with
#            -references the key columns carry Django's `REFERENCES "t"
#            ("id") DEFERRABLE INITIALLY DEFERRED`;
#   define   one `SELECT rel_define(...)` per relationship: `-rels` of them
#            (default 1,000);
#   data     `-rows` rows per model table (default 3), every key pointing
#            at an existing row, so that rel_check is empty, and a link per
#            ManyToManyField: row r's keys point at row r of their target,
#            but PROTECT, RESTRICT and DO_NOTHING keys at the last row, so
#            that deleting row 1 anywhere cascades without refusal (nor a
#            key left dangling) and deleting the last row is refused;
#   json     the same relationships as one `SELECT rel_define_many(...)`
#            (one JSON array of rel_define's arguments);
#   all      schema, define, data;
#   summary  what the relationships are, as a Tcl dict, for exact
#            expectations (test/scale.test): rels, rows, tables, models, apps,
#            kinds {FK n O2O n M2M n}, rules {CASCADE n ...}, accessors,
#            hidden, symmetrical, through, junctions (auto-created), chain
#            (the longest CASCADE chain, in tables);
#   edges    one line per ForeignKey/OneToOneField and per end of a
#            ManyToManyField's junction: child column parent rule;
#   insert   one INSERT of a new row of app0_model1 whose keys point at
#            row 1 (tool/bench's one write).
#
# The relationships. Structural ones first, in this order:
#   1. chains: in each app, model k has a ForeignKey `up` to model k-1
#      (CASCADE, Django's default related_name `<model>_set`): chains of 10
#      tables;
#   2. self references: model 0 of each app has `parent` =
#      ForeignKey('self', CASCADE, null=True, related_name="children"), and
#      model 9 `friends` = ManyToManyField('self') (symmetrical: no reverse
#      accessor);
#   3. OneToOneFields from model 5 of each app to model 5 of the next app
#      (CASCADE);
#   4. ManyToManyFields: model 7 of each app to model 3 of the next app
#      (auto-created junction), and one per through table, declared after
#      the through table's own two ForeignKeys (CASCADE), as Django does;
# then 5. ForeignKeys between apps, cycling through every on_delete rule:
#   CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT (default=the last
#   row), SET(the last row), DO_NOTHING, null=True where the rule needs
#   it; every tenth one has
#   related_name="+" (no reverse accessor).
# The structural ones take at most half of -rels: when there are more, each
# kind keeps its first share (whole chains first), so that a small -rels
# still has every kind and every rule. Other relationships have their own
# related_name (r<n>), so no two reverse accessors clash.
set opt(-rels) 1000
set opt(-tables) 300
set opt(-rows) 3
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
      puts stderr "usage: tclsh tool/schemagen.tcl ?-rels N? ?-tables N? ?-rows N? ?-references? ?-part schema|define|json|data|all|summary|edges?"
      exit 1
    }
  }
}
set nRels $opt(-rels)
set nTables $opt(-tables)
if {$nTables < 20} {
  puts stderr "schemagen: -tables must be at least 20"
  exit 1
}
# About one table in six is a through table: the rest are models.
set nThrough [expr {$nTables / 6}]
set nModels [expr {$nTables - $nThrough}]
set nApps [expr {($nModels + 9) / 10}]

proc model {i} {
  return "app[expr {$i / 10}]_model[expr {$i % 10}]"
}
proc app_of {i} { return [expr {$i / 10}] }

# ---------------------------------------------------------------------
# The candidates of each structural kind, as lists of relationships. A
# relationship is {model field kind target options null relname}; relname
# is the effective related_name ("" for the default).
set cand(chain) {}
set cand(selffk) {}
set cand(selfm2m) {}
set cand(o2o) {}
set cand(m2m) {}
set cand(through) {}   ;# each item: a list of three relationships
for {set a 0} {$a < $nApps} {incr a} {
  for {set k 1} {$k < 10} {incr k} {
    set i [expr {$a * 10 + $k}]
    if {$i >= $nModels} break
    lappend cand(chain) [list [model $i] up ForeignKey [model [expr {$i - 1}]] \
                           "on_delete=CASCADE" 0 ""]
  }
}
for {set a 0} {$a < $nApps} {incr a} {
  lappend cand(selffk) [list [model [expr {$a * 10}]] parent ForeignKey self \
                          "on_delete=CASCADE, null=True, related_name=\"children\"" 1 children]
  set i [expr {$a * 10 + 9}]
  if {$i < $nModels} {
    lappend cand(selfm2m) [list [model $i] friends ManyToManyField self "blank=True" 0 ""]
  }
}
for {set a 0} {$a < $nApps} {incr a} {
  set i [expr {$a * 10 + 5}]
  set j [expr {(($a + 1) % $nApps) * 10 + 5}]
  if {$i < $nModels && $j < $nModels && $i != $j} {
    lappend cand(o2o) [list [model $i] twin OneToOneField [model $j] "on_delete=CASCADE" 0 r]
  }
}
for {set a 0} {$a < $nApps} {incr a} {
  set i [expr {$a * 10 + 7}]
  set j [expr {(($a + 1) % $nApps) * 10 + 3}]
  if {$i < $nModels && $j < $nModels} {
    lappend cand(m2m) [list [model $i] links ManyToManyField [model $j] "blank=True" 0 r]
  }
}
for {set t 0} {$t < $nThrough} {incr t} {
  set src [expr {($t * 7) % $nModels}]
  set dst [expr {($t * 13 + 1) % $nModels}]
  if {$src == $dst} { set dst [expr {($dst + 1) % $nModels}] }
  set name "through[expr {$t / 10}]_link[expr {$t % 10}]"
  lappend cand(through) [list \
    [list $name src ForeignKey [model $src] "on_delete=CASCADE" 0 ""] \
    [list $name dst ForeignKey [model $dst] "on_delete=CASCADE" 0 ""] \
    [list [model $src] via$t ManyToManyField [model $dst] \
       "through=\"$name\", through_fields=(\"src_id\", \"dst_id\")" 0 r]]
}

# The share each structural kind keeps.
set kinds {chain selffk selfm2m o2o m2m through}
set nStruct 0
foreach k $kinds {
  incr nStruct [expr {[llength $cand($k)] * ($k eq "through" ? 3 : 1)}]
}
set budget [expr {$nRels / 2}]
set frac [expr {$nStruct > $budget ? double($budget) / $nStruct : 1.0}]

set rels {}
set throughTabs {}  ;# {name src dst} of the through tables in use
proc add {rel} {
  global rels
  lassign $rel model field kind target options null relname
  set n [llength $rels]
  if {$relname eq "r"} {
    set relname "r$n"
    append options ", related_name=\"$relname\""
  }
  lappend rels [list $model $field $kind $target $options $null $relname]
}
foreach k $kinds {
  set take [expr {int(ceil([llength $cand($k)] * $frac))}]
  foreach c [lrange $cand($k) 0 [expr {$take - 1}]] {
    if {$k eq "through"} {
      if {[llength $rels] + 3 > $nRels} break
      foreach r $c { add $r }
      lappend throughTabs [list [lindex $c 0 0] [lindex $c 0 3] [lindex $c 1 3]]
    } else {
      if {[llength $rels] >= $nRels} break
      add $c
    }
  }
}
# 5. between apps, every rule in turn
set last $opt(-rows)
set rules [list CASCADE PROTECT RESTRICT SET_NULL SET_DEFAULT SET($last) DO_NOTHING]
set n 0
while {[llength $rels] < $nRels} {
  set i [expr {($n * 37 + 11) % $nModels}]
  set j [expr {($n * 53 + 29) % $nModels}]
  if {[app_of $i] == [app_of $j]} { set j [expr {($j + 10) % $nModels}] }
  set rule [lindex $rules [expr {$n % [llength $rules]}]]
  set o "on_delete=$rule"
  set null 0
  switch -- $rule {
    SET_NULL { append o ", null=True"; set null 1 }
    SET_DEFAULT { append o ", default=$last, null=True"; set null 1 }
    SET($last) - DO_NOTHING { append o ", null=True"; set null 1 }
  }
  if {$n % 10 == 9} {
    append o ", related_name=\"+\""
    add [list [model $i] x$n ForeignKey [model $j] $o $null +]
  } else {
    add [list [model $i] x$n ForeignKey [model $j] $o $null r]
  }
  incr n
}

# ---------------------------------------------------------------------
# What the relationships make: key columns, junctions, edges, accessors.
set cols [dict create]   ;# table -> list of {column target null unique}
set junctions {}         ;# auto-created junctions: {table srccol dstcol}
set edges {}             ;# {child column parent rule}
set summary [dict create kinds {FK 0 O2O 0 M2M 0} \
  rules {CASCADE 0 PROTECT 0 RESTRICT 0 SET_NULL 0 SET_DEFAULT 0 SET 0 DO_NOTHING 0} \
  accessors 0 hidden 0 symmetrical 0]
foreach r $rels {
  lassign $r model field kind target options null relname
  set t [expr {$target eq "self" ? $model : $target}]
  set k [dict get {ForeignKey FK OneToOneField O2O ManyToManyField M2M} $kind]
  dict set summary kinds $k [expr {[dict get $summary kinds $k] + 1}]
  dict incr summary accessors
  if {$kind ne "ManyToManyField"} {
    regexp {on_delete=([A-Z_]+)} $options -> rule
    dict set summary rules $rule [expr {[dict get $summary rules $rule] + 1}]
    dict lappend cols $model [list ${field}_id $t $null [expr {$kind eq "OneToOneField"}] $rule]
    lappend edges [list $model ${field}_id $t $rule]
    if {$relname eq "+"} { dict incr summary hidden } else { dict incr summary accessors }
  } elseif {$target eq "self" && ![string match *symmetrical=False* $options]} {
    dict incr summary symmetrical
    lappend junctions [list ${model}_$field from_${model}_id to_${model}_id $model $t]
    lappend edges [list ${model}_$field from_${model}_id $model CASCADE]
    lappend edges [list ${model}_$field to_${model}_id $t CASCADE]
  } else {
    dict incr summary accessors
    if {[regexp {through="([^"]+)"} $options -> th]} {
      # its ends are the through table's own ForeignKeys (edges above)
    } else {
      lappend junctions [list ${model}_$field ${model}_id ${t}_id $model $t]
      lappend edges [list ${model}_$field ${model}_id $model CASCADE]
      lappend edges [list ${model}_$field ${t}_id $t CASCADE]
    }
  }
}
set nChain 0
foreach c $cand(chain) {
  if {[lsearch -exact $rels $c] >= 0} { incr nChain }
}
dict set summary rels [llength $rels]
dict set summary rows $opt(-rows)
dict set summary tables [expr {$nModels + [llength $throughTabs]}]
dict set summary models $nModels
dict set summary apps $nApps
dict set summary through [llength $throughTabs]
dict set summary junctions [llength $junctions]
# the longest chain: app 0's, when its nine ForeignKeys are all there
dict set summary chain [expr {$nChain >= 9 ? 10 : $nChain + 1}]

proc keydef {col target null unique} {
  global opt
  set d "\"$col\" integer [expr {$null ? "NULL" : "NOT NULL"}]"
  if {$unique} { append d " UNIQUE" }
  if {$opt(-references)} {
    append d " REFERENCES \"$target\" (\"id\") DEFERRABLE INITIALLY DEFERRED"
  }
  return $d
}

set parts [expr {$opt(-part) eq "all" ? {schema define data} : $opt(-part)}]
if {"summary" in $parts} {
  puts $summary
}
if {"edges" in $parts} {
  foreach e $edges { puts $e }
}
if {"schema" in $parts} {
  for {set i 0} {$i < $nModels} {incr i} {
    set t [model $i]
    set defs [list {"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT} {"name" varchar(100) NOT NULL}]
    set idx {}
    if {[dict exists $cols $t]} {
      foreach c [dict get $cols $t] {
        lappend defs [keydef {*}[lrange $c 0 3]]
        if {![lindex $c 3]} {
          lappend idx "CREATE INDEX \"${t}_[lindex $c 0]_idx\" ON \"$t\" (\"[lindex $c 0]\");"
        }
      }
    }
    puts "CREATE TABLE \"$t\" ([join $defs {, }]);"
    foreach x $idx { puts $x }
  }
  foreach th $throughTabs {
    lassign $th name src dst
    set defs [list {"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT} \
                [keydef src_id $src 0 0] [keydef dst_id $dst 0 0] {"since" integer NOT NULL DEFAULT 0}]
    puts "CREATE TABLE \"$name\" ([join $defs {, }]);"
    puts "CREATE UNIQUE INDEX \"${name}_uniq\" ON \"$name\" (\"src_id\", \"dst_id\");"
    puts "CREATE INDEX \"${name}_dst_id_idx\" ON \"$name\" (\"dst_id\");"
  }
  foreach j $junctions {
    lassign $j name src dst srcTab dstTab
    set defs [list {"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT} \
                [keydef $src $srcTab 0 0] [keydef $dst $dstTab 0 0]]
    puts "CREATE TABLE \"$name\" ([join $defs {, }]);"
    puts "CREATE UNIQUE INDEX \"${name}_uniq\" ON \"$name\" (\"$src\", \"$dst\");"
    puts "CREATE INDEX \"${name}_${dst}_idx\" ON \"$name\" (\"$dst\");"
  }
}
if {"define" in $parts} {
  foreach r $rels {
    lassign $r model field kind target options
    puts "SELECT rel_define('$model.$field', '$kind', '$target', '$options');"
  }
}
if {"json" in $parts} {
  proc jstr {s} { return "\"[string map {\\ \\\\ \" \\\"} $s]\"" }
  set items {}
  foreach r $rels {
    lassign $r model field kind target options
    lappend items "\[[jstr $model.$field], [jstr $kind], [jstr $target], [jstr $options]\]"
  }
  puts "SELECT rel_define_many('\[[join $items {, }]\]');"
}
if {"insert" in $parts} {
  set t [model 1]
  set names {{"name"}}
  set vals {'bench'}
  if {[dict exists $cols $t]} {
    foreach c [dict get $cols $t] {
      lappend names "\"[lindex $c 0]\""
      lappend vals 1
    }
  }
  puts "INSERT INTO \"$t\" ([join $names {, }]) VALUES ([join $vals {, }]);"
}
if {"data" in $parts} {
  # Rows 1..rows of every model; row r's keys point at row r of their
  # target (one-to-one keys stay distinct), PROTECT, RESTRICT and
  # DO_NOTHING keys at the last row; self references are NULL. Each junction links row 1 to
  # row 1 (a self junction: row 1 to row 2).
  puts "BEGIN;"
  for {set i 0} {$i < $nModels} {incr i} {
    set t [model $i]
    set names {"id" "name"}
    set keys {}
    if {[dict exists $cols $t]} {
      foreach c [dict get $cols $t] {
        lassign $c col target null unique rule
        lappend names "\"$col\""
        lappend keys [expr {$target eq $t ? "self" : $rule}]
      }
    }
    for {set r 1} {$r <= $opt(-rows)} {incr r} {
      set vals {}
      foreach k $keys {
        lappend vals [expr {$k eq "self" ? "NULL" :
                            $k in {PROTECT RESTRICT DO_NOTHING} ? $opt(-rows) : $r}]
      }
      puts "INSERT INTO \"$t\" ([join $names {, }]) VALUES ([join [concat $r '$t-$r' $vals] {, }]);"
    }
  }
  foreach th $throughTabs {
    lassign $th name
    puts "INSERT INTO \"$name\" (\"id\", \"src_id\", \"dst_id\") VALUES (1, 1, 1);"
  }
  foreach j $junctions {
    lassign $j name src dst srcTab dstTab
    set other [expr {$srcTab eq $dstTab && $opt(-rows) > 1 ? 2 : 1}]
    puts "INSERT INTO \"$name\" (\"$src\", \"$dst\") VALUES (1, $other);"
  }
  puts "COMMIT;"
}
