/* _firkin_speedups: an optional C accelerator for the Python package's gets
 * and plain puts.
 *
 * The package itself is ctypes over libfirkin.so (no compiled glue). A get
 * through ctypes costs about 2 us in argument conversion, against about
 * 55 ns for the C call; the bindings' budget is C + 150 ns. This module
 * makes one call of firkin_get_into with no conversion objects: about
 * 145 ns for DB.get on the 2-core machine (docs/bindings.md).
 *
 * It does not link against libfirkin: the package passes it the address of
 * firkin_get_into from the library ctypes loaded (bind), so there is one
 * library in the process whichever way it was found. If the module is
 * missing (no compiler or Python headers at install time) or
 * FIRKIN_PY_SPEEDUPS=0, the package uses ctypes alone, with the same
 * results.
 *
 * get(db, snap, ns, key, default, slow) returns the value as bytes,
 * `default` if the key is absent, and `slow` for anything else (a key that
 * is not exactly bytes, a value larger than the 4 KiB buffer, an error):
 * the package then takes the ctypes path, which reads a large value or
 * raises the typed error with firkin_last_error's message. A handle is a
 * Gate (below), a Use of one, an int address, or None (NULL).
 *
 * Gates (firkin/_gate.py): GateBase holds a shared C handle (a database,
 * namespace or snapshot) with its `closed` flag and `calls` in flight (a
 * list of None: append and pop are atomic under the GIL, as in the pure
 * Python fallback, whose wrappers of the ctypes functions use the same
 * fields); Use is what handle() returns, a reference to its gate. They are
 * C types so that get and put read the pointer and the flag here, with no
 * Python-level wrapper around the call (that wrapper cost 60-70 ns per get
 * and 130 ns per put). get holds the GIL from reading the flag to the end of
 * firkin_get_into, and close() needs the GIL, so get counts nothing: a
 * close() in another thread runs before (get sees the flag and returns
 * slow, and the package raises ClosedError) or after (the handle is no
 * longer used). firkin_get_into calls back into no Python code. put releases
 * the GIL, so it appends to each gate's calls before and pops after, under
 * the GIL; if the gate was closed meanwhile and it was the last call, it
 * calls gate.free(False), which frees the handle once.
 *
 * The GIL is held during the call: releasing and retaking it costs about
 * 50 ns, as much as the get of a resident record. A get that faults a page
 * in from disk therefore blocks the other Python threads for that read;
 * FIRKIN_PY_SPEEDUPS=0 gives the ctypes path, which releases the GIL.
 *
 * put (a put without TTL) makes one call of firkin_put, with the GIL
 * released (a put may wait for a sync): about 1,240 -> 442-472 ns.
 *
 * Thread contract: bind is called once, at import, before any other call;
 * get and put may be called from any thread (get's buffer is per thread).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>

typedef int (*get_into_fn)(void *db, void *snap, void *ns, const void *key, size_t key_len,
                           void *buf, size_t buf_len, size_t *value_len);
typedef int (*put_fn)(void *db, void *wo, void *ns, const void *key, size_t key_len,
                      const void *value, size_t value_len);
static get_into_fn g_get_into;
static put_fn g_put;

static void *address_of(PyObject *o) {
  void *p = PyLong_AsVoidPtr(o);
  if (p == NULL && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bind: a null function address");
  return p;
}

static PyObject *bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "bind(firkin_get_into, firkin_put) takes 2 addresses");
    return NULL;
  }
  void *get_into = address_of(args[0]);
  void *put = get_into == NULL ? NULL : address_of(args[1]);
  if (put == NULL) return NULL;
  g_get_into = (get_into_fn)get_into;
  g_put = (put_fn)put;
  Py_RETURN_NONE;
}

/* ---- GateBase and Use (see the top of the file) ---- */

typedef struct {
  PyObject_HEAD
  PyObject *h;     /* the handle as given (an int, or None) */
  void *ptr;       /* h as a pointer */
  char closed;     /* set by close(): no new call reaches C */
  PyObject *calls; /* a list: one None per call in flight with the GIL released */
} GateObject;

static void gate_dealloc(GateObject *self) {
  Py_CLEAR(self->h);
  Py_CLEAR(self->calls);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *gate_get_h(GateObject *self, void *closure) {
  (void)closure;
  PyObject *h = self->h != NULL ? self->h : Py_None;
  Py_INCREF(h);
  return h;
}

static int gate_set_h(GateObject *self, PyObject *value, void *closure) {
  (void)closure;
  if (value == NULL) value = Py_None;
  void *p = NULL;
  if (value != Py_None) {
    p = PyLong_AsVoidPtr(value);
    if (p == NULL && PyErr_Occurred()) return -1;
  }
  Py_INCREF(value);
  Py_XSETREF(self->h, value);
  self->ptr = p;
  return 0;
}

static PyGetSetDef kGateGetSet[] = {
    {"h", (getter)gate_get_h, (setter)gate_set_h, "the C handle (an int, or None)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef kGateMembers[] = {
    {"closed", T_BOOL, offsetof(GateObject, closed), 0, "set by close()"},
    {"calls", T_OBJECT_EX, offsetof(GateObject, calls), 0, "the calls in flight (a list)"},
    {NULL, 0, 0, 0, NULL}};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_firkin_speedups.GateBase",
    .tp_basicsize = sizeof(GateObject),
    .tp_dealloc = (destructor)gate_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A C handle, its closed flag and its calls in flight (firkin/_gate.py's Gate).",
    .tp_members = kGateMembers,
    .tp_getset = kGateGetSet,
    .tp_new = PyType_GenericNew,
};

typedef struct {
  PyObject_HEAD
  PyObject *gate;
} UseObject;

static void use_dealloc(UseObject *self) {
  Py_CLEAR(self->gate);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *use_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  PyObject *gate;
  static char *kwlist[] = {"gate", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!:Use", kwlist, &GateType, &gate)) return NULL;
  UseObject *self = (UseObject *)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  Py_INCREF(gate);
  self->gate = gate;
  return (PyObject *)self;
}

static PyMemberDef kUseMembers[] = {
    {"gate", T_OBJECT, offsetof(UseObject, gate), READONLY, "the gate"},
    {NULL, 0, 0, 0, NULL}};

static PyTypeObject UseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_firkin_speedups.Use",
    .tp_basicsize = sizeof(UseObject),
    .tp_dealloc = (destructor)use_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "What handle() of a gated handle returns: a reference to its gate.",
    .tp_members = kUseMembers,
    .tp_new = use_new,
};

/* A handle argument: a Gate, a Use, an int address, or None for NULL.
 * Returns 0 (*out set; *gate set for a gate, else NULL), 1 if the gate is
 * closed, -1 on an error (raised). */
static int handle_of(PyObject *o, void **out, GateObject **gate) {
  *gate = NULL;
  if (o == Py_None) {
    *out = NULL;
    return 0;
  }
  if (Py_TYPE(o) == &UseType) o = ((UseObject *)o)->gate;
  if (PyObject_TypeCheck(o, &GateType)) {
    GateObject *g = (GateObject *)o;
    if (g->closed || g->calls == NULL || !PyList_CheckExact(g->calls)) return 1;
    *gate = g;
    *out = g->ptr;
    return 0;
  }
  *out = PyLong_AsVoidPtr(o);
  return (*out == NULL && PyErr_Occurred()) ? -1 : 0;
}

static _Thread_local char t_buf[4096];

static PyObject *get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "get(db, snap, ns, key, default, slow) takes 6 arguments");
    return NULL;
  }
  if (g_get_into == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "_firkin_speedups: bind() was not called");
    return NULL;
  }
  void *h[3];
  GateObject *g;
  PyObject *key = args[3];
  PyObject *result = args[5];  /* slow (also for a closed gate: ClosedError from the package) */
  for (int i = 0; i < 3; i++) {
    const int r = handle_of(args[i], &h[i], &g);
    if (r < 0) return NULL;
    if (r > 0) goto done;
  }
  /* From here to the return the GIL is held: no close() can run. */
  if (PyBytes_CheckExact(key)) {
    size_t n = 0;
    const int st = g_get_into(h[0], h[1], h[2], PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key),
                              t_buf, sizeof(t_buf), &n);
    if (st == 0) return PyBytes_FromStringAndSize(t_buf, (Py_ssize_t)n);
    if (st == -1) result = args[4]; /* FIRKIN_E_NOT_FOUND: default */
  }
done:
  Py_INCREF(result);
  return result;
}

/* put(db, wo, ns, key, value, slow): None once stored, an int status if the
 * put failed (the package raises it; never retried), slow (nothing done) if
 * the key or value is not exactly bytes. The GIL is released: a put may
 * wait for a sync. */
static PyObject *put(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "put(db, wo, ns, key, value, slow) takes 6 arguments");
    return NULL;
  }
  if (g_put == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "_firkin_speedups: bind() was not called");
    return NULL;
  }
  PyObject *key = args[3], *value = args[4];
  if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value)) {
    Py_INCREF(args[5]);
    return args[5];
  }
  void *h[3];
  GateObject *gates[3];
  for (int i = 0; i < 3; i++) {
    const int r = handle_of(args[i], &h[i], &gates[i]);
    if (r < 0) return NULL;
    if (r > 0) {  /* closed: slow, and the package raises ClosedError */
      Py_INCREF(args[5]);
      return args[5];
    }
  }
  /* Enter every gate (under the GIL, as the Python wrappers do). */
  int entered = 0;
  for (; entered < 3; entered++) {
    if (gates[entered] != NULL && PyList_Append(gates[entered]->calls, Py_None) < 0) break;
  }
  int st = 0;
  if (entered == 3) {
    /* The bytes objects are immutable and referenced by the caller's frame
     * for the whole call. */
    Py_BEGIN_ALLOW_THREADS
    st = g_put(h[0], h[1], h[2], PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key),
               PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
    Py_END_ALLOW_THREADS
  }
  /* Leave the gates entered; the last call out of a closed gate frees its
   * handle (gate.free(False): once, whoever calls it first). */
  int failed = entered != 3;
  for (int i = 0; i < entered; i++) {
    GateObject *g = gates[i];
    if (g == NULL) continue;
    /* calls.pop(): every item is None and calls is only ever appended to
     * and popped, so the last item is as good as the one this call
     * appended. It holds one item at least (this call's): shrinking the
     * size leaves the allocation to the list's next resize. */
    if (!PyList_CheckExact(g->calls) || PyList_GET_SIZE(g->calls) < 1) continue; /* (replaced by hand) */
    PyListObject *calls = (PyListObject *)g->calls;
    const Py_ssize_t n = Py_SIZE(calls) - 1;
    PyObject *last = calls->ob_item[n];
    Py_SET_SIZE(calls, n);
    Py_DECREF(last);
    if (g->closed && n == 0) {
      PyObject *r = PyObject_CallMethod((PyObject *)g, "free", "O", Py_False);
      if (r == NULL) failed = 1;
      Py_XDECREF(r);
    }
  }
  if (failed) return NULL;
  if (st == 0) Py_RETURN_NONE;
  return PyLong_FromLong(st);
}

static PyMethodDef kMethods[] = {
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL,
     "bind(address of firkin_get_into, address of firkin_put): once, before any call"},
    {"put", (PyCFunction)(void (*)(void))put, METH_FASTCALL,
     "put(db, wo, ns, key, value, slow) -> None, an int status, or slow"},
    {"get", (PyCFunction)(void (*)(void))get, METH_FASTCALL,
     "get(db, snap, ns, key, default, slow) -> the value, default if absent, else slow"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_firkin_speedups",
                                     "Optional C accelerator for firkin's gets.", -1, kMethods,
                                     NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__firkin_speedups(void) {
  if (PyType_Ready(&GateType) < 0 || PyType_Ready(&UseType) < 0) return NULL;
  PyObject *m = PyModule_Create(&kModule);
  if (m == NULL) return NULL;
  Py_INCREF(&GateType);
  if (PyModule_AddObject(m, "GateBase", (PyObject *)&GateType) < 0) {
    Py_DECREF(&GateType);
    Py_DECREF(m);
    return NULL;
  }
  Py_INCREF(&UseType);
  if (PyModule_AddObject(m, "Use", (PyObject *)&UseType) < 0) {
    Py_DECREF(&UseType);
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
