namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>Waiting on real systems: poll a probe until it says done, or fail at a deadline with the last value seen.</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, int intervalMs = 100)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        var deadline = DateTime.UtcNow + timeout;
        T last = default!;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                last = await probe();
                lastError = null;
                if (done(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException)
            {
                lastError = ex;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last value: {Describe(last)}"
                    + (lastError is null ? "" : $"; last error: {lastError.GetType().Name}: {lastError.Message}"));
            }

            await Task.Delay(intervalMs);
        }
    }

    public static Task UntilAsync(Func<Task<bool>> probe, TimeSpan timeout, string what, int intervalMs = 100) =>
        UntilAsync(probe, b => b, timeout, what, intervalMs);

    private static string Describe<T>(T value) => value switch
    {
        null => "(none)",
        System.Text.Json.JsonElement j => j.GetRawText(),
        string s => s,
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(i => i?.ToString() ?? "null")) + "]",
        _ => value.ToString() ?? "(none)",
    };
}
