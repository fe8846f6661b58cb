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
 * raises the typed error with firkin_last_error's message. The handles are
 * ints (None: NULL).
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

/* A handle argument: an int address, or None for NULL. */
static int handle_of(PyObject *o, void **out) {
  if (o == Py_None) {
    *out = NULL;
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
  void *db, *snap, *ns;
  if (handle_of(args[0], &db) || handle_of(args[1], &snap) || handle_of(args[2], &ns)) return NULL;
  PyObject *key = args[3];
  PyObject *result = args[5];  /* slow */
  if (PyBytes_CheckExact(key)) {
    size_t n = 0;
    const int st = g_get_into(db, snap, ns, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key),
                              t_buf, sizeof(t_buf), &n);
    if (st == 0) return PyBytes_FromStringAndSize(t_buf, (Py_ssize_t)n);
    if (st == -1) result = args[4]; /* FIRKIN_E_NOT_FOUND: default */
  }
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
  void *db, *wo, *ns;
  if (handle_of(args[0], &db) || handle_of(args[1], &wo) || handle_of(args[2], &ns)) return NULL;
  int st;
  /* The bytes objects are immutable and referenced by the caller's frame
   * for the whole call. */
  Py_BEGIN_ALLOW_THREADS
  st = g_put(db, wo, ns, PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key),
             PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
  Py_END_ALLOW_THREADS
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

PyMODINIT_FUNC PyInit__firkin_speedups(void) { return PyModule_Create(&kModule); }
