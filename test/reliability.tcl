# reliability.tcl -- shared by oom.test, faults.test, concurrency.test and
# fuzzreplay.test: build a C driver with `make -s` (make rebuilds it when a
# source is newer) and run it, returning {exit-status output}.
proc rel_build {target} {
  lassign [run_make $target] rc out
  if {$rc} { error "make $target failed: $out" }
  return [file join $::rootdir $target]
}
proc rel_run {target args} {
  set bin [rel_build $target]
  set rc [catch {exec $bin {*}$args 2>@1} out opts]
  if {$rc} {
    set ec [dict get $opts -errorcode]
    if {[lindex $ec 0] eq "CHILDSTATUS"} { set rc [lindex $ec 2] } else { set rc -1 }
  }
  return [list $rc $out]
}
# How each driver reports the work it did: a regexp whose first group
# counts it (OOM points of each scenario, I/O fault points of each
# scenario, kills, statements, inputs replayed), by report prefix.
set ::rel_counted {
  oom:      {^oom: \w+: (\d+) OOM points}
  iofault:  {^iofault: \w+ \(\w+\): (\d+) I/O fault points}
  crash:    {(\d+) kills survived}
  replay:   {(\d+) inputs}
  {}        {(\d+) statements run}
}
# Print the driver's summary lines (those starting with PREFIX) and return
# its exit status: 0 when everything held. A driver that ran nothing must
# not pass: its count must appear, and never be 0.
proc rel_report {prefix res} {
  lassign $res rc out
  foreach line [split $out \n] {
    if {[string match "$prefix*" $line] || $rc != 0} { puts "  $line" }
  }
  if {$rc != 0} { return $rc }
  set counted [dict get $::rel_counted $prefix]
  set counts [regexp -all -inline -line -- $counted $out]
  if {![llength $counts]} { return "no line matches {$counted}" }
  foreach {line n} $counts {
    if {$n == 0} { return "ran nothing: $line" }
  }
  return 0
}
