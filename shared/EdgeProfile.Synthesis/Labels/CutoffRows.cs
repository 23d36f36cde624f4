using System.Globalization;
using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Loading;
using nietras.SeparatedValues;

namespace EdgeProfile.Synthesis.Labels;

/// <summary>
/// The rows of a training set: customers with at least one transaction before their cutoff, at one cutoff for all
/// (<see cref="AtCutoff"/>) or at one per customer from a file (<see cref="FromFile"/>).
/// </summary>
public static class CutoffRows
{
    /// <summary>Every customer with a transaction before <paramref name="cutoff"/>, at that cutoff.</summary>
    public static IReadOnlyList<CutoffRow> AtCutoff(EntitySet set, long cutoff)
    {
        ArgumentNullException.ThrowIfNull(set);
        var rows = new List<CutoffRow>();
        for (var c = 0; c < set.CustomerIds.Count; c++)
        {
            if (set.Time[set.CustomerStart[c]] < cutoff)
            {
                rows.Add(new CutoffRow(c, cutoff));
            }
        }

        return rows;
    }

    /// <summary>
    /// Reads a CSV with a header and two columns, customer and cutoff (<c>customer,cutoff</c>, times ISO 8601). Rows
    /// of customers absent from the data or without a transaction before their cutoff are skipped and counted.
    /// </summary>
    public static CutoffsFile FromFile(EntitySet set, string path)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new SynthesisException($"cutoffs file {Path.GetFullPath(path)} does not exist", isConfiguration: true);
        }

        var name = Path.GetFileName(path);
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true }).FromFile(path);
        if (reader.Header.ColNames.Count < 2)
        {
            throw new SynthesisException($"{name}: needs a header and two columns, customer and cutoff (got: {string.Join(", ", reader.Header.ColNames)})", isConfiguration: true);
        }

        var rows = new List<CutoffRow>();
        int unknown = 0, withoutHistory = 0, read = 0;
        foreach (var row in reader)
        {
            read++;
            if (row.ColCount < 2)
            {
                throw new SynthesisException($"{name} row {read} (line {row.LineNumberFrom}): needs customer and cutoff", isConfiguration: true);
            }

            var id = row[0].Span.Trim().ToString();
            var text = row[1].Span;
            if (!Timestamps.TryParse(text, null, out var cutoff))
            {
                throw new SynthesisException(string.Create(CultureInfo.InvariantCulture, $"{name} row {read} (line {row.LineNumberFrom}): cutoff '{text.ToString()}' is not a time (use e.g. 2011-09-01 or 2011-09-01 12:00:00)"), isConfiguration: true);
            }

            var c = set.IndexOfCustomer(id);
            if (c < 0)
            {
                unknown++;
            }
            else if (set.Time[set.CustomerStart[c]] >= cutoff)
            {
                withoutHistory++;
            }
            else
            {
                rows.Add(new CutoffRow(c, cutoff));
            }
        }

        return new CutoffsFile(rows, read, unknown, withoutHistory);
    }
}
