namespace EdgeProfile.Edge.Uplink;

/// <summary>Exponential back-off between attempts to reach the hub: from the first delay, doubling up to the longest.</summary>
internal sealed class RetryDelay
{
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public RetryDelay(TimeSpan first, TimeSpan max)
    {
        _first = first;
        _max = max;
        _next = first;
    }

    /// <summary>The hub answered: the next wait starts over.</summary>
    public void Reset() => _next = _first;

    /// <summary>The hub refused us: wait the longest until it may have changed its mind.</summary>
    public void Longest() => _next = _max;

    /// <summary>Waits the current delay and doubles it; false when <paramref name="cancellationToken"/> fired.</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_next, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, _max.Ticks));
        return true;
    }
}
