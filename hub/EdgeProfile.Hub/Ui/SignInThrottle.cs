using System.Collections.Concurrent;

namespace EdgeProfile.Hub.Ui;

/// <summary>
/// Slows password guessing: after 5 failed sign-ins of one name, that name is locked for a minute, doubling with every
/// further failure up to an hour. A success clears it. Kept in memory (a restart forgets it).
/// </summary>
internal sealed class SignInThrottle(TimeProvider time)
{
    private const int FreeAttempts = 5;
    private static readonly TimeSpan FirstLock = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxLock = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset Until)> _names = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="name"/> is locked now, and for how much longer.</summary>
    public bool IsLocked(string name, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        if (!_names.TryGetValue(name, out var state))
        {
            return false;
        }

        wait = state.Until - time.GetUtcNow();
        return wait > TimeSpan.Zero;
    }

    /// <summary>Counts a failed attempt.</summary>
    public void Failed(string name) => _names.AddOrUpdate(name, _ => (1, DateTimeOffset.MinValue), (_, s) =>
    {
        var failures = s.Failures + 1;
        if (failures < FreeAttempts)
        {
            return (failures, DateTimeOffset.MinValue);
        }

        var lockFor = TimeSpan.FromTicks(Math.Min(MaxLock.Ticks, FirstLock.Ticks << Math.Min(20, failures - FreeAttempts)));
        return (failures, time.GetUtcNow() + lockFor);
    });

    /// <summary>Clears the name's failures.</summary>
    public void Succeeded(string name) => _names.TryRemove(name, out _);
}
