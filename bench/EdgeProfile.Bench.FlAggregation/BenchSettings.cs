using System.Globalization;

namespace EdgeProfile.Bench.FlAggregation;

/// <summary>Command line of bench-fl-aggregation.</summary>
public sealed record BenchSettings(int Clients, int Parameters, int KrumParameters, int Repetitions, bool SecAgg, double DropFraction, int Seed, int[] Rings)
{
    public const string Usage =
        "usage: bench-fl-aggregation [--clients 100] [--params 1000000] [--krum-params N (default --params)] [--reps 5] [--no-secagg] [--drop 0.1] [--seed 1] [--ring 64,32]";

    public static BenchSettings Parse(string[] args)
    {
        var s = new BenchSettings(100, 1_000_000, -1, 5, true, 0.1, 1, [64, 32]);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            s = args[i] switch
            {
                "--clients" => s with { Clients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--params" => s with { Parameters = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--krum-params" => s with { KrumParameters = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--reps" => s with { Repetitions = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--no-secagg" => s with { SecAgg = false },
                "--drop" => s with { DropFraction = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--ring" => s with { Rings = [.. Next().Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture))] },
                "--seed" => s with { Seed = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown argument {args[i]}\n{Usage}"),
            };
        }
        if (s.KrumParameters < 0)
        {
            s = s with { KrumParameters = s.Parameters };
        }
        if (s.Clients < 4 || s.Parameters < 1 || s.KrumParameters < 1 || s.Repetitions < 1 || s.Rings.Length == 0 || s.Rings.Any(r => r is not (32 or 64)))
        {
            throw new ArgumentException(Usage);
        }
        return s;
    }
}
