namespace EdgeProfile.Edge.Log;

/// <summary>Live counters for <c>/api/stats</c>; written by the log writer, read by anyone.</summary>
public sealed class EdgeStats
{
    private long _eventsStored;
    private long _duplicates;
    private long _deadLettered;
    private long _lateEvents;
    private long _outboxBacklog;
    private long _outboxBytes;
    private long _oldestOutboxMs;
    private long _overflowCustomers;
    private long _suppressed;

    /// <summary>Events not stored because they name an erased customer.</summary>
    public long EventsSuppressed => Volatile.Read(ref _suppressed);

    internal void LoadSuppressed(long suppressed) => _suppressed = suppressed;

    internal void AddSuppressed(long n) => Interlocked.Add(ref _suppressed, n);

    /// <summary>Valid events in the log.</summary>
    public long EventsStored => Volatile.Read(ref _eventsStored);

    /// <summary>Redeliveries of an already stored eventId.</summary>
    public long DuplicatesIgnored => Volatile.Read(ref _duplicates);

    /// <summary>Invalid messages recorded as dead letters.</summary>
    public long DeadLettered => Volatile.Read(ref _deadLettered);

    /// <summary>Events older than the store's watermark minus the allowed lateness.</summary>
    public long LateEvents => Volatile.Read(ref _lateEvents);

    /// <summary>Deltas waiting for the hub.</summary>
    public long OutboxBacklog => Volatile.Read(ref _outboxBacklog);

    /// <summary>Bytes of deltas waiting for the hub.</summary>
    public long OutboxBytes => Volatile.Read(ref _outboxBytes);

    /// <summary>Creation time (Unix ms) of the oldest waiting delta, 0 when none.</summary>
    public long OldestOutboxUnixMs => Volatile.Read(ref _oldestOutboxMs);

    /// <summary>Customers whose latest state waits for room in a full outbox.</summary>
    public long OverflowCustomers => Volatile.Read(ref _overflowCustomers);

    internal void Load(long stored, long duplicates, long dead, long late, long backlog, long bytes, long oldestMs, long overflow)
    {
        _eventsStored = stored;
        _duplicates = duplicates;
        _deadLettered = dead;
        _lateEvents = late;
        _outboxBacklog = backlog;
        _outboxBytes = bytes;
        _oldestOutboxMs = oldestMs;
        _overflowCustomers = overflow;
    }

    internal void AddCommitted(long stored, long duplicates, long dead, long late, long outboxRows, long outboxBytes, long oldestMsIfWasEmpty, long overflowDelta)
    {
        Interlocked.Add(ref _eventsStored, stored);
        Interlocked.Add(ref _duplicates, duplicates);
        Interlocked.Add(ref _deadLettered, dead);
        Interlocked.Add(ref _lateEvents, late);
        Interlocked.Add(ref _overflowCustomers, overflowDelta);
        if (outboxRows > 0)
        {
            Interlocked.CompareExchange(ref _oldestOutboxMs, oldestMsIfWasEmpty, 0);
            Interlocked.Add(ref _outboxBacklog, outboxRows);
            Interlocked.Add(ref _outboxBytes, outboxBytes);
        }
    }

    internal void RemoveOutbox(long rows, long bytes, long newOldestMs)
    {
        Interlocked.Add(ref _outboxBacklog, -rows);
        Interlocked.Add(ref _outboxBytes, -bytes);
        Volatile.Write(ref _oldestOutboxMs, Volatile.Read(ref _outboxBacklog) == 0 ? 0 : newOldestMs);
    }

    internal void SetOverflow(long customers) => Volatile.Write(ref _overflowCustomers, customers);
}
