using System.Collections.Concurrent;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// A small cache of things that are costly to make and few in number (signer keys, responder certificates), emptied
/// when it reaches its capacity: a flood of strangers costs time, never memory. Entries are not disposed on eviction, as
/// a concurrent user may still hold one; the GC takes them.
/// </summary>
internal sealed class BoundedCache<T>(int capacity)
{
    private readonly ConcurrentDictionary<string, T> _items = new(StringComparer.Ordinal);

    public T GetOrAdd<TArg>(string key, Func<string, TArg, T> create, TArg argument)
    {
        if (_items.TryGetValue(key, out T? item))
        {
            return item;
        }

        if (_items.Count >= capacity)
        {
            _items.Clear();
        }

        return _items.GetOrAdd(key, create, argument);
    }
}
