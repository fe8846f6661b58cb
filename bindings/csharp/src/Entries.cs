using System;
using System.Collections;
using System.Collections.Generic;

namespace Firkin
{
    /// <summary>
    /// The entries of a namespace as a re-iterable sequence: what
    /// <c>Db.Iterate()</c>, <c>Namespace.Iterate()</c> and
    /// <c>Snapshot.Iterate(ns)</c> return. Each <c>foreach</c> (each
    /// <see cref="GetEnumerator"/>) opens its own native <see cref="Iterator"/>,
    /// which <c>foreach</c> disposes at the end, so the same sequence can be
    /// enumerated any number of times and by LINQ. Enumerating a database's or
    /// a namespace's sequence reads at a new snapshot each time; a snapshot's
    /// sequence reads that snapshot every time.
    ///
    /// Thread contract: the object holds no native state and may be shared;
    /// each enumerator it hands out belongs to one thread at a time.
    /// </summary>
    public sealed class Entries : IEnumerable<Entry>
    {
        readonly Func<Iterator> open;

        internal Entries(Func<Iterator> open)
        {
            this.open = open;
        }

        /// <summary>Opens a new iterator; dispose it (foreach does).</summary>
        public IEnumerator<Entry> GetEnumerator() { return open(); }

        IEnumerator IEnumerable.GetEnumerator() { return open(); }
    }
}
