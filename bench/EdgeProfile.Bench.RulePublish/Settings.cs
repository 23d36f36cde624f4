using System.Globalization;

namespace EdgeProfile.Bench.RulePublish;

/// <summary>Command-line settings: <c>--edges N --customers N --publishes N --no-build --mosquitto PATH</c>.</summary>
internal sealed record Settings(int Edges, int Customers, int Publishes, bool NoBuild, string Mosquitto)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(10, 2000, 7, false, "/usr/sbin/mosquitto");
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int(string v) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new ArgumentException($"{args[i - 1]}: '{v}' is not a positive integer");
            s = args[i] switch
            {
                "--edges" => s with { Edges = Int(Next()) },
                "--customers" => s with { Customers = Math.Max(2, Int(Next())) },
                "--publishes" => s with { Publishes = Int(Next()) },
                "--no-build" => s with { NoBuild = true },
                "--mosquitto" => s with { Mosquitto = Next() },
                _ => throw new ArgumentException($"unknown option {args[i]} (--edges, --customers, --publishes, --no-build, --mosquitto)"),
            };
        }

        return s;
    }

    /// <summary>The repository root: the first directory above this program holding EdgeProfile.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeProfile.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EdgeProfile.sln not found above " + AppContext.BaseDirectory);
    }
}
