using System.Globalization;

namespace EdgeProfile.Bench.HubReads;

/// <summary>CPU time from <c>/proc/&lt;pid&gt;/stat</c> (Linux; USER_HZ is 100 on every Linux ABI .NET runs on).</summary>
internal static class ProcStat
{
    private const double TicksPerSecond = 100;

    /// <summary>User + system CPU seconds of <paramref name="pid"/> (fields 14 and 15).</summary>
    public static double CpuSeconds(int pid) => Sum(pid.ToString(CultureInfo.InvariantCulture), 14, 15);

    /// <summary>User + system CPU seconds of this process's children that have exited and been waited for (fields 16 and 17).</summary>
    public static double WaitedChildrenCpuSeconds() => Sum("self", 16, 17);

    /// <summary>
    /// CPU seconds every process on the machine has used (user, nice, system, irq, softirq, steal from the first line of
    /// <c>/proc/stat</c>), to tell how much of the box other work took during a measurement.
    /// </summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int n) => fields.Length > n ? long.Parse(fields[n], CultureInfo.InvariantCulture) : 0;
        return (Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / TicksPerSecond;
    }

    /// <summary>The 1-minute load average, to say how busy the box was.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static double Sum(string pid, int first, int second)
    {
        var text = File.ReadAllText($"/proc/{pid}/stat");
        // Field 2 (comm) is in parentheses and may hold spaces; field 3 follows the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int n) => long.Parse(fields[n - 3], CultureInfo.InvariantCulture);
        return (Field(first) + Field(second)) / TicksPerSecond;
    }
}
