module firkin.dev/examples/quickstart

go 1.19

require firkin.dev/firkin v0.0.0

// In the source tree; a user points this at the installed module
// (PREFIX/share/firkin/bindings/go).
replace firkin.dev/firkin => ../../bindings/go
