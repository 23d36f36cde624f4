using System.Text;

namespace EdgeProfile.Hub.Segments;

/// <summary>Splits a segment expression into tokens; names come out lower case (the language ignores their case).</summary>
internal static class SegmentTokenizer
{
    public static List<SegmentToken> Tokenize(string text)
    {
        var tokens = new List<SegmentToken>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                tokens.Add(new SegmentToken(SegmentTokenKind.End, "", text.Length + 1));
                return tokens;
            }

            var start = i;
            var ch = text[i];
            if (char.IsAsciiLetter(ch) || ch == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new SegmentToken(SegmentTokenKind.Identifier, text[start..i].ToLowerInvariant(), start + 1));
            }
            else if (char.IsAsciiDigit(ch) || (ch is '-' or '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                i = ReadNumber(text, i, tokens);
            }
            else if (ch == '"')
            {
                i = ReadString(text, i, tokens);
            }
            else if (ch is '(' or ')' or ',')
            {
                var kind = ch switch { '(' => SegmentTokenKind.LeftParen, ')' => SegmentTokenKind.RightParen, _ => SegmentTokenKind.Comma };
                tokens.Add(new SegmentToken(kind, ch.ToString(), start + 1));
                i++;
            }
            else
            {
                i = ReadOperator(text, i, tokens);
            }
        }
    }

    private static int ReadNumber(string text, int i, List<SegmentToken> tokens)
    {
        var start = i;
        if (text[i] == '-')
        {
            i++;
        }

        // Letters glued on ("30d") are read into the token too, so the error names the whole word instead of
        // failing later at the 'd' with a vaguer message.
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '.'))
        {
            i++;
        }

        var number = text[start..i];
        if (number.Count(c => c == '.') > 1 || number.EndsWith('.') || number.Skip(1).Any(c => !char.IsAsciiDigit(c) && c != '.')
            || !double.TryParse(number, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint,
                System.Globalization.CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value))
        {
            throw new SegmentSyntaxException(start + 1, $"'{number}' is not a number (write numbers like 3, 100 or 49.5)");
        }

        tokens.Add(new SegmentToken(SegmentTokenKind.Number, number, start + 1));
        return i;
    }

    private static int ReadString(string text, int i, List<SegmentToken> tokens)
    {
        var start = i;
        var value = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length)
            {
                throw new SegmentSyntaxException(start + 1, "the text starting here has no closing '\"'");
            }

            var ch = text[i];
            if (ch == '"')
            {
                tokens.Add(new SegmentToken(SegmentTokenKind.String, value.ToString(), start + 1));
                return i + 1;
            }

            if (ch == '\\')
            {
                if (i + 1 >= text.Length || text[i + 1] is not ('"' or '\\'))
                {
                    throw new SegmentSyntaxException(i + 1, "'\\' in a text must be followed by '\"' or '\\'");
                }

                i++;
                ch = text[i];
            }

            value.Append(ch);
            i++;
        }
    }

    private static int ReadOperator(string text, int i, List<SegmentToken> tokens)
    {
        var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
        var position = i + 1;
        switch (two)
        {
            case ">=" or "<=" or "!=":
                tokens.Add(new SegmentToken(SegmentTokenKind.Operator, two, position));
                return i + 2;
            case "==":
                throw new SegmentSyntaxException(position, "'==' is not an operator; compare with '='");
            case "<>":
                throw new SegmentSyntaxException(position, "'<>' is not an operator; use '!='");
            case "&&":
                throw new SegmentSyntaxException(position, "'&&' is not an operator; use 'and'");
            case "||":
                throw new SegmentSyntaxException(position, "'||' is not an operator; use 'or'");
        }

        var ch = text[i];
        switch (ch)
        {
            case '=' or '>' or '<':
                tokens.Add(new SegmentToken(SegmentTokenKind.Operator, ch.ToString(), position));
                return i + 1;
            case '!':
                throw new SegmentSyntaxException(position, "'!' is not an operator; use 'not' (or '!=' to compare)");
            case '\'':
                throw new SegmentSyntaxException(position, "texts are written in double quotes, e.g. has_tag(\"vip\")");
            default:
                throw new SegmentSyntaxException(position, $"unexpected character '{ch}'");
        }
    }
}
