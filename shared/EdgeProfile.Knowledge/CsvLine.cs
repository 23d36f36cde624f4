using System.Text;

namespace EdgeProfile.Knowledge;

/// <summary>
/// One CSV line split into fields (RFC 4180 quoting: a quoted field may hold commas, a doubled quote is a quote; no
/// line breaks inside fields — true of the public catalogues and transaction files the importers and benches read).
/// </summary>
public static class CsvLine
{
    /// <summary>The fields of <paramref name="line"/>, unquoted.</summary>
    public static string[] Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return [.. fields];
    }
}
