using System.Text;

namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// A small RFC 4180 reader: comma-separated fields, double-quoted fields may hold commas, quotes (doubled) and line
/// breaks; records end with CRLF or LF. Enough for the training sets the edge writes, without a package.
/// </summary>
internal static class RfcCsv
{
    /// <summary>Reads every record of <paramref name="path"/>; the 1-based line each record starts on comes with it.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var start = 1;
        var inQuotes = false;
        var quotedField = false;
        var any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            var ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    if (ch == '\n')
                    {
                        line++;
                    }
                    field.Append(ch);
                }
                continue;
            }

            switch (ch)
            {
                case '"' when field.Length == 0 && !quotedField:
                    inQuotes = quotedField = any = true;
                    break;
                case '"':
                    throw new PipelineException($"{path}:{line}: a quote inside an unquoted field (RFC 4180)");
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    quotedField = false;
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return (start, fields.ToArray());
                    }
                    fields.Clear();
                    field.Clear();
                    quotedField = any = false;
                    line++;
                    start = line;
                    break;
                default:
                    if (quotedField)
                    {
                        throw new PipelineException($"{path}:{line}: text after a closing quote (RFC 4180)");
                    }
                    field.Append(ch);
                    any = true;
                    break;
            }
        }

        if (inQuotes)
        {
            throw new PipelineException($"{path}:{start}: a quoted field is not closed before the end of the file");
        }

        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return (start, fields.ToArray());
        }
    }
}
