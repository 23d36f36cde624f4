using System.Globalization;
using System.Text;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>What a domain-knowledge import wrote.</summary>
/// <param name="Statements">Statements read.</param>
/// <param name="TriplesAdded">New triples written.</param>
/// <param name="NamesResolvedToCategories">Distinct names that were resolved to taxonomy nodes.</param>
public sealed record DomainKnowledgeImportResult(int Statements, int TriplesAdded, int NamesResolvedToCategories);

/// <summary>
/// Domain knowledge as triples, from a small text format: one statement <c>Subject predicate Object</c> per line.
/// <list type="bullet">
/// <item><c>#</c> starts a comment (outside quotes) that runs to the end of the line; blank lines are skipped.</item>
/// <item>A bare word (<c>Strollers</c>, <c>complementedBy</c>) or a double-quoted text (<c>"Baby Strollers"</c>, with
/// <c>\"</c> and <c>\\</c> escapes) is an entity name.</item>
/// <item>Objects may also be literals: <c>'single-quoted text'</c> (string), <c>42</c> / <c>-3.5</c> (number),
/// <c>true</c> / <c>false</c> (boolean), <c>@2024-05-01</c> or <c>@2024-05-01T10:00:00Z</c> (date-time, UTC if no offset).</item>
/// <item>The subject and the predicate must be names.</item>
/// </list>
/// With <c>resolveCategoryNames</c>, a subject or object name equal to the <c>name</c> of exactly one taxonomy
/// <c>Category</c> node stands for that node (so <c>"Baby & Toddler" needs SafetyInfo</c> attaches to
/// <c>taxonomy:537</c>); ambiguous or unknown names stay plain names.
/// </summary>
public static class DomainKnowledge
{
    /// <summary>Parses domain-knowledge text.</summary>
    /// <param name="reader">The text.</param>
    /// <returns>The triples, in file order.</returns>
    /// <exception cref="FormatException">A line is malformed; the message names line and column (1-based).</exception>
    public static IReadOnlyList<Triple> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new List<Triple>();
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            var terms = ParseLine(line, lineNo);
            if (terms.Count == 0)
            {
                continue;
            }

            if (terms.Count != 3)
            {
                throw new FormatException($"Domain knowledge line {lineNo}: expected 'Subject predicate Object', found {terms.Count} term(s).");
            }

            if (terms[0].IsLiteral || terms[1].IsLiteral)
            {
                throw new FormatException($"Domain knowledge line {lineNo}: subject and predicate must be names.");
            }

            result.Add(new Triple(terms[0], terms[1], terms[2]));
        }

        return result;
    }

    /// <summary>Imports a domain-knowledge file.</summary>
    /// <param name="store">The store.</param>
    /// <param name="path">The file.</param>
    /// <param name="resolveCategoryNames">Map names of taxonomy categories onto their nodes.</param>
    /// <returns>What was imported.</returns>
    public static DomainKnowledgeImportResult Import(TripleStore store, string path, bool resolveCategoryNames = false)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Import(store, reader, resolveCategoryNames);
    }

    /// <summary>Imports domain-knowledge text in one transaction.</summary>
    /// <param name="store">The store.</param>
    /// <param name="reader">The text.</param>
    /// <param name="resolveCategoryNames">Map names of taxonomy categories onto their nodes.</param>
    /// <returns>What was imported.</returns>
    public static DomainKnowledgeImportResult Import(TripleStore store, TextReader reader, bool resolveCategoryNames = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        var triples = Parse(reader);
        var resolved = new Dictionary<Term, Term>();
        if (resolveCategoryNames)
        {
            Term Resolve(Term t)
            {
                if (t.IsLiteral)
                {
                    return t;
                }

                if (resolved.TryGetValue(t, out var node))
                {
                    return node;
                }

                var candidates = store.Match(null, Vocabulary.NameProperty, Term.Text(t.Lexical))
                    .Select(m => m.Subject)
                    .Where(s => store.Contains(s, Vocabulary.Type, Vocabulary.CategoryClass))
                    .Distinct()
                    .ToList();
                node = candidates.Count == 1 ? candidates[0] : t;
                resolved[t] = node;
                return node;
            }

            triples = [.. triples.Select(t => new Triple(Resolve(t.Subject), t.Predicate, Resolve(t.Object)))];
        }

        var added = store.AddRange(triples);
        return new DomainKnowledgeImportResult(triples.Count, added, resolved.Count(kv => kv.Key != kv.Value));
    }

    private static List<Term> ParseLine(string line, int lineNo)
    {
        var terms = new List<Term>();
        var i = 0;
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i]))
            {
                i++;
            }

            if (i >= line.Length || line[i] == '#')
            {
                return terms;
            }

            var start = i;
            var c = line[i];
            if (c is '"' or '\'')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"Domain knowledge line {lineNo}, column {start + 1}: unterminated quote.");
                    }

                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        text.Append(line[i + 1]);
                        i += 2;
                        continue;
                    }

                    if (line[i] == c)
                    {
                        i++;
                        break;
                    }

                    text.Append(line[i++]);
                }

                if (c == '"' && text.Length == 0)
                {
                    throw new FormatException($"Domain knowledge line {lineNo}, column {start + 1}: empty name.");
                }

                terms.Add(c == '"' ? Term.Name(text.ToString()) : Term.Text(text.ToString()));
                continue;
            }

            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] != '#')
            {
                i++;
            }

            var word = line[start..i];
            if (word[0] == '@')
            {
                if (!DateTimeOffset.TryParse(word[1..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
                {
                    throw new FormatException($"Domain knowledge line {lineNo}, column {start + 1}: '{word}' is not a date-time.");
                }

                terms.Add(Term.DateTime(when));
            }
            else if (word is "true" or "false")
            {
                terms.Add(Term.Boolean(word == "true"));
            }
            else if ((char.IsAsciiDigit(word[0]) || (word.Length > 1 && word[0] is '-' or '+' && char.IsAsciiDigit(word[1])))
                && double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                terms.Add(Term.Number(number));
            }
            else
            {
                terms.Add(Term.Name(word));
            }
        }
    }
}
