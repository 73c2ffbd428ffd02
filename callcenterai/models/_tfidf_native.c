/*
 * Native scoring kernel for CompiledTfidf (callcenterai/models/tfidf_compiled.py).
 *
 * One ticket costs about 100 us in the pure-Python compiled form
 * (benchmarks/model_bench.py): dozens of dict look-ups of freshly built n-gram
 * strings in a 100k-term vocabulary plus ~15 small numpy calls. This kernel does the same arithmetic in one call on text
 * that `normalize_text` has already produced (normalisation stays in Python, in
 * one place): split on single spaces, look every word n-gram up in an
 * open-addressing hash table, tf (optionally sublinear) x idf, l2 norm, a
 * sparse dot with the calibrator-scaled weights, the sigmoid, per-fold
 * normalisation and the mean over folds. tests/model/test_tfidf_model.py holds
 * it to the fitted scikit-learn pipeline to 1e-6 on the whole test split.
 *
 * Built by setup.py as an optional extension; without a C compiler the
 * pure-Python path serves instead.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *keys;        /* bytes: every vocabulary term, concatenated */
    int64_t *key_offsets;  /* n_terms + 1 offsets into keys */
    int64_t *slot_term;    /* hash slot -> term index, -1 when empty */
    uint64_t *slot_hash;
    uint64_t mask;         /* slots - 1 (slots is a power of two) */
    int64_t *term_column;  /* term index -> feature column */
    Py_buffer idf;         /* float64 (n_features) */
    Py_buffer weights;     /* float64 (n_features, n_outputs), C order */
    Py_buffer bias;        /* float64 (n_outputs) */
    Py_ssize_t n_features, n_outputs, n_folds, n_classes;
    int sublinear, ngram_low, ngram_high;
    int ready; /* set by the last line of a successful __init__ */
} Scorer;

static uint64_t hash_bytes(const char *data, Py_ssize_t length)
{
    /* FNV-1a: short keys, no need for more. */
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < length; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int64_t lookup(const Scorer *self, const char *data, Py_ssize_t length)
{
    const char *keys = PyBytes_AS_STRING(self->keys);
    uint64_t h = hash_bytes(data, length);
    for (uint64_t slot = h & self->mask;; slot = (slot + 1) & self->mask) {
        int64_t term = self->slot_term[slot];
        if (term < 0)
            return -1;
        if (self->slot_hash[slot] == h) {
            int64_t start = self->key_offsets[term];
            if (self->key_offsets[term + 1] - start == length && memcmp(keys + start, data, length) == 0)
                return self->term_column[term];
        }
    }
}

/* A contiguous float64 vector or matrix; `items` is set when it is 0 on entry, checked otherwise. */
static int get_doubles(PyObject *obj, Py_buffer *view, Py_ssize_t *items, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    int right_type = view->itemsize == 8 && view->format && strcmp(view->format, "d") == 0;
    if (right_type && *items == 0)
        *items = view->len / 8;
    if (!right_type || view->len != *items * 8) {
        PyErr_Format(PyExc_ValueError, "%s must be a contiguous float64 array of %zd items", name, *items);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void Scorer_dealloc(Scorer *self)
{
    Py_XDECREF(self->keys);
    PyMem_Free(self->key_offsets);
    PyMem_Free(self->slot_term);
    PyMem_Free(self->slot_hash);
    PyMem_Free(self->term_column);
    if (self->idf.obj)
        PyBuffer_Release(&self->idf);
    if (self->weights.obj)
        PyBuffer_Release(&self->weights);
    if (self->bias.obj)
        PyBuffer_Release(&self->bias);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Scorer(terms: list[bytes], columns: list[int], idf, weights, bias, n_folds, sublinear, ngram_low, ngram_high) */
static int Scorer_init(Scorer *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"terms",    "columns",   "idf",       "weights",    "bias",
                            "n_folds", "sublinear", "ngram_low", "ngram_high", NULL};
    PyObject *terms, *columns, *idf, *weights, *bias;
    Py_ssize_t n_folds;
    int sublinear, low, high;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOOnpii", names, &PyList_Type, &terms, &PyList_Type,
                                     &columns, &idf, &weights, &bias, &n_folds, &sublinear, &low, &high))
        return -1;
    Py_ssize_t n_terms = PyList_GET_SIZE(terms);
    if (PyList_GET_SIZE(columns) != n_terms || n_folds < 1 || low < 1 || high < low) {
        PyErr_SetString(PyExc_ValueError, "terms and columns differ in length, or bad folds or n-gram range");
        return -1;
    }
    if (self->idf.obj || self->keys) {  /* a second __init__ would leak the first one's buffers */
        PyErr_SetString(PyExc_RuntimeError, "Scorer is already initialised");
        return -1;
    }
    Py_ssize_t n_weights;
    if (get_doubles(idf, &self->idf, &self->n_features, "idf") < 0 ||
        get_doubles(bias, &self->bias, &self->n_outputs, "bias") < 0)
        return -1;
    n_weights = self->n_features * self->n_outputs;
    if (get_doubles(weights, &self->weights, &n_weights, "weights") < 0)
        return -1;
    if (self->n_outputs % n_folds != 0) {
        PyErr_SetString(PyExc_ValueError, "outputs are not a whole number of folds");
        return -1;
    }
    self->n_folds = n_folds;
    self->n_classes = self->n_outputs / n_folds;
    self->sublinear = sublinear;
    self->ngram_low = low;
    self->ngram_high = high;

    /* Concatenate the terms; remember where each starts. */
    self->key_offsets = PyMem_Malloc((n_terms + 1) * sizeof(int64_t));
    self->term_column = PyMem_Malloc((n_terms + 1) * sizeof(int64_t));
    if (!self->key_offsets || !self->term_column) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n_terms; i++) {
        PyObject *term = PyList_GET_ITEM(terms, i);
        if (!PyBytes_Check(term)) {
            PyErr_SetString(PyExc_TypeError, "terms must be bytes");
            return -1;
        }
        int64_t column = PyLong_AsLongLong(PyList_GET_ITEM(columns, i));
        if (column == -1 && PyErr_Occurred())
            return -1;
        if (column < 0 || column >= self->n_features) {
            PyErr_Format(PyExc_ValueError, "column %lld is outside the %zd features", (long long)column,
                         self->n_features);
            return -1;
        }
        self->key_offsets[i] = total;
        self->term_column[i] = column;
        total += PyBytes_GET_SIZE(term);
    }
    self->key_offsets[n_terms] = total;
    self->keys = PyBytes_FromStringAndSize(NULL, total);
    if (!self->keys)
        return -1;
    char *blob = PyBytes_AS_STRING(self->keys);
    for (Py_ssize_t i = 0; i < n_terms; i++) {
        PyObject *term = PyList_GET_ITEM(terms, i);
        memcpy(blob + self->key_offsets[i], PyBytes_AS_STRING(term), PyBytes_GET_SIZE(term));
    }

    /* Open addressing, load factor at most 1/2. */
    uint64_t slots = 16;
    while (slots < 2 * (uint64_t)n_terms)
        slots <<= 1;
    self->mask = slots - 1;
    self->slot_term = PyMem_Malloc(slots * sizeof(int64_t));
    self->slot_hash = PyMem_Malloc(slots * sizeof(uint64_t));
    if (!self->slot_term || !self->slot_hash) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t s = 0; s < slots; s++)
        self->slot_term[s] = -1;
    for (Py_ssize_t i = 0; i < n_terms; i++) {
        int64_t start = self->key_offsets[i];
        uint64_t h = hash_bytes(blob + start, self->key_offsets[i + 1] - start);
        uint64_t slot = h & self->mask;
        while (self->slot_term[slot] >= 0)
            slot = (slot + 1) & self->mask;
        self->slot_term[slot] = i;
        self->slot_hash[slot] = h;
    }
    self->ready = 1;
    return 0;
}

typedef struct {
    int64_t column;
    double value;
} Entry;

static int by_column(const void *a, const void *b)
{
    int64_t x = ((const Entry *)a)->column, y = ((const Entry *)b)->column;
    return (x > y) - (x < y);
}

/* Columns of every n-gram of `text` found in the vocabulary; returns the count or -1 (no memory). */
static Py_ssize_t gather_columns(const Scorer *self, const char *text, Py_ssize_t length, Entry **found)
{
    Py_ssize_t n_words = 0;
    for (Py_ssize_t i = 0; i < length; i++)
        n_words += text[i] != ' ' && (i == 0 || text[i - 1] == ' ');
    Py_ssize_t *starts = PyMem_Malloc((n_words + 1) * 2 * sizeof(Py_ssize_t));
    Entry *entries = PyMem_Malloc((n_words * (self->ngram_high - self->ngram_low + 1) + 1) * sizeof(Entry));
    if (!starts || !entries) {
        PyMem_Free(starts);
        PyMem_Free(entries);
        return -1;
    }
    Py_ssize_t *ends = starts + n_words + 1, w = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (text[i] != ' ' && (i == 0 || text[i - 1] == ' '))
            starts[w] = i;
        if (text[i] != ' ' && (i + 1 == length || text[i + 1] == ' '))
            ends[w++] = i + 1;
    }
    /* normalize_text joins words with one space, so an n-gram is a substring. */
    Py_ssize_t count = 0;
    for (int n = self->ngram_low; n <= self->ngram_high; n++) {
        for (Py_ssize_t first = 0; first + n <= n_words; first++) {
            Py_ssize_t start = starts[first];
            int64_t column = lookup(self, text + start, ends[first + n - 1] - start);
            if (column >= 0)
                entries[count++].column = column;
        }
    }
    PyMem_Free(starts);
    *found = entries;
    return count;
}

/* score(normalized: str, out: float64 buffer of n_classes) -> bool; False when every calibrator said 0. */
static PyObject *Scorer_score(Scorer *self, PyObject *args)
{
    const char *text;
    Py_ssize_t length;
    PyObject *out_array;
    Py_buffer out;
    if (!self->ready) { /* made by __new__ alone, or its __init__ failed: no tables to read */
        PyErr_SetString(PyExc_RuntimeError, "Scorer is not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "s#O", &text, &length, &out_array))
        return NULL;
    if (PyObject_GetBuffer(out_array, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        return NULL;
    if (out.itemsize != 8 || !out.format || strcmp(out.format, "d") != 0 || out.len != self->n_classes * 8) {
        PyBuffer_Release(&out);
        PyErr_Format(PyExc_ValueError, "out must hold %zd float64 values", self->n_classes);
        return NULL;
    }
    Entry *entries;
    Py_ssize_t found = gather_columns(self, text, length, &entries);
    double *logits = PyMem_Malloc(self->n_outputs * sizeof(double));
    if (found < 0 || !logits) {
        if (found >= 0)
            PyMem_Free(entries);
        PyMem_Free(logits);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    const double *idf = self->idf.buf, *weights = self->weights.buf, *bias = self->bias.buf;
    /* Raw counts per column (sorted runs), then tf-idf and the l2 norm. */
    qsort(entries, found, sizeof(Entry), by_column);
    Py_ssize_t unique = 0;
    double squares = 0.0;
    for (Py_ssize_t i = 0; i < found;) {
        Py_ssize_t j = i;
        while (j < found && entries[j].column == entries[i].column)
            j++;
        double tf = (double)(j - i);
        double value = (self->sublinear ? log(tf) + 1.0 : tf) * idf[entries[i].column];
        entries[unique].column = entries[i].column;
        entries[unique++].value = value;
        squares += value * value;
        i = j;
    }
    double norm = sqrt(squares);
    for (Py_ssize_t k = 0; k < self->n_outputs; k++)
        logits[k] = 0.0;
    for (Py_ssize_t i = 0; i < unique; i++) {
        double value = norm > 0 ? entries[i].value / norm : entries[i].value;
        const double *row = weights + entries[i].column * self->n_outputs;
        for (Py_ssize_t k = 0; k < self->n_outputs; k++)
            logits[k] += value * row[k];
    }
    PyMem_Free(entries);
    /* Calibrated probability per fold and class: expit(-(a*d + b)) with a, b folded in. */
    for (Py_ssize_t k = 0; k < self->n_outputs; k++)
        logits[k] = 1.0 / (1.0 + exp(logits[k] + bias[k]));
    double *proba = out.buf;
    int ok = 1;
    for (Py_ssize_t c = 0; c < self->n_classes; c++)
        proba[c] = 0.0;
    for (Py_ssize_t f = 0; f < self->n_folds && ok; f++) {
        const double *scores = logits + f * self->n_classes;
        double total = 0.0;
        for (Py_ssize_t c = 0; c < self->n_classes; c++)
            total += scores[c];
        if (total == 0.0)
            ok = 0;
        for (Py_ssize_t c = 0; c < self->n_classes && ok; c++)
            proba[c] += scores[c] / total;
    }
    for (Py_ssize_t c = 0; c < self->n_classes; c++) {
        proba[c] /= (double)self->n_folds;
        if (proba[c] > 1.0 && proba[c] <= 1.0 + 1e-5)
            proba[c] = 1.0;
    }
    PyMem_Free(logits);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

static PyMethodDef Scorer_methods[] = {
    {"score", (PyCFunction)Scorer_score, METH_VARARGS,
     "score(normalized, out) -> bool: one ticket's class probabilities into out; False means use the "
     "reference path (every calibrator of a fold said 0)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "callcenterai.models._tfidf_native.Scorer",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Vocabulary hash table and weights of a compiled TF-IDF + calibrated LinearSVC model.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_tfidf_native",
    .m_doc = "Native scoring kernel for CompiledTfidf.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__tfidf_native(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(m, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
