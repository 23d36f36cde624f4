using System.Globalization;
using System.Text;

namespace EdgeProfile.Hub.Segments;

/// <summary>
/// The member export: RFC 4180 CSV (CRLF line ends; a field with a comma, quote or line break is quoted, quotes
/// doubled). Lists are joined with ';'; times are UTC ISO 8601.
/// </summary>
internal static class SegmentCsv
{
    public const string Header = "profile_id,identifiers,visits_30d,spend_30d,channels,tags,since";

    public static async Task WriteAsync(IAsyncEnumerable<SegmentMember> members, TextWriter writer, CancellationToken cancellationToken)
    {
        await writer.WriteAsync(Header + "\r\n").ConfigureAwait(false);
        var pending = 0;
        await foreach (var member in members.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await writer.WriteAsync(Row(member)).ConfigureAwait(false);
            if (++pending == 500)
            {
                // Keeps memory flat and lets a client see rows while a large segment is still being read.
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                pending = 0;
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static string Row(SegmentMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var p = member.Profile;
        var row = new StringBuilder(160);
        Field(row, p.ProfileId).Append(',');
        Field(row, string.Join(';', p.Identifiers)).Append(',');
        Field(row, p.Global.Visits30d.ToString(CultureInfo.InvariantCulture)).Append(',');
        Field(row, p.Global.Spend30d.ToString(CultureInfo.InvariantCulture)).Append(',');
        Field(row, string.Join(';', p.Global.Channels)).Append(',');
        Field(row, string.Join(';', p.Tags.Select(t => t.Name))).Append(',');
        Field(row, member.Since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        return row.Append("\r\n").ToString();
    }

    public static StringBuilder Field(StringBuilder row, string value)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return row.Append(value);
        }

        return row.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
