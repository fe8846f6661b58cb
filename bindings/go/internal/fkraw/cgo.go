// Package fkraw is the SWIG-generated raw layer of the Go binding: the C
// functions of firkin.h plus the fkb_* helpers of bindings/swig/firkin.i.
// It is internal; use package firkin.
//
// Build flags: the headers and libfirkin come from pkg-config (package
// "firkin"; in the source tree the Makefile points PKG_CONFIG_PATH at the
// build's meson-uninstalled directory). The SWIG interface is found relative
// to this directory.
package fkraw

// #cgo CPPFLAGS: -I${SRCDIR}/../../../swig
// #cgo CFLAGS: -O2
// #cgo pkg-config: firkin
import "C"
