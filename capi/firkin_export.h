/* firkin_export.h — FIRKIN_API marks every exported symbol of libfirkin. */
#ifndef FIRKIN_EXPORT_H
#define FIRKIN_EXPORT_H

#if defined(_WIN32)
#if defined(FIRKIN_BUILDING)
#define FIRKIN_API __declspec(dllexport)
#else
#define FIRKIN_API __declspec(dllimport)
#endif
#else
#define FIRKIN_API __attribute__((visibility("default")))
#endif

#endif /* FIRKIN_EXPORT_H */
