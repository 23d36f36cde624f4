namespace EdgeProfile.Hub.Ui;

/// <summary>
/// A line diff by longest common subsequence, for the rule editor's "diff against live": each line of the result is
/// <c>' '</c> (in both), <c>'-'</c> (only in the first text) or <c>'+'</c> (only in the second), in reading order, a
/// run of removals before the additions that replace it. Lines end at <c>\n</c>; a <c>\r</c> before it is dropped.
/// </summary>
public static class LineDiff
{
    /// <summary>Largest LCS table (lines × lines, after the common head and tail are set aside) computed exactly.</summary>
    public const long MaxCells = 4_000_000;

    /// <summary>The diff from <paramref name="a"/> (old) to <paramref name="b"/> (new).</summary>
    public static IReadOnlyList<(char Op, string Line)> Compute(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var x = Lines(a);
        var y = Lines(b);
        var result = new List<(char Op, string Line)>(Math.Max(x.Length, y.Length));

        // The common head and tail need no table.
        var head = 0;
        while (head < x.Length && head < y.Length && x[head] == y[head])
        {
            head++;
        }

        var tail = 0;
        while (tail < x.Length - head && tail < y.Length - head && x[x.Length - 1 - tail] == y[y.Length - 1 - tail])
        {
            tail++;
        }

        for (var i = 0; i < head; i++)
        {
            result.Add((' ', x[i]));
        }

        var n = x.Length - head - tail;
        var m = y.Length - head - tail;
        if ((long)n * m > MaxCells)
        {
            // Too large to align line by line: the whole middle is replaced.
            for (var i = 0; i < n; i++)
            {
                result.Add(('-', x[head + i]));
            }

            for (var j = 0; j < m; j++)
            {
                result.Add(('+', y[head + j]));
            }
        }
        else
        {
            Middle(x, y, head, n, m, result);
        }

        for (var i = x.Length - tail; i < x.Length; i++)
        {
            result.Add((' ', x[i]));
        }

        return result;
    }

    private static void Middle(string[] x, string[] y, int offset, int n, int m, List<(char Op, string Line)> result)
    {
        // lcs[i, j]: the LCS length of x[i..n) and y[j..m) (relative to offset), so the walk runs forwards.
        // Stored flat, row i at i * (m + 1).
        var w = m + 1;
        var lcs = new int[(n + 1) * w];
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m - 1; j >= 0; j--)
            {
                lcs[(i * w) + j] = x[offset + i] == y[offset + j]
                    ? lcs[((i + 1) * w) + j + 1] + 1
                    : Math.Max(lcs[((i + 1) * w) + j], lcs[(i * w) + j + 1]);
            }
        }

        int r = 0, c = 0;
        while (r < n && c < m)
        {
            if (x[offset + r] == y[offset + c])
            {
                result.Add((' ', x[offset + r]));
                r++;
                c++;
            }
            else if (lcs[((r + 1) * w) + c] >= lcs[(r * w) + c + 1])
            {
                result.Add(('-', x[offset + r]));
                r++;
            }
            else
            {
                result.Add(('+', y[offset + c]));
                c++;
            }
        }

        for (; r < n; r++)
        {
            result.Add(('-', x[offset + r]));
        }

        for (; c < m; c++)
        {
            result.Add(('+', y[offset + c]));
        }
    }

    /// <summary>The lines of <paramref name="text"/>: none for an empty text, and a final newline ends the last line.</summary>
    private static string[] Lines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n');
        if (lines[^1].Length == 0)
        {
            lines = lines[..^1];
        }

        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].EndsWith('\r'))
            {
                lines[i] = lines[i][..^1];
            }
        }

        return lines;
    }
}
