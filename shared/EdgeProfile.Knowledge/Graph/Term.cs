using System.Globalization;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>What a <see cref="Term"/> is: an entity name (IRI-like identifier) or a typed literal.</summary>
public enum TermKind
{
    /// <summary>An entity, class or predicate, identified by its name (e.g. <c>taxonomy:537</c>, <c>subClassOf</c>).</summary>
    Name = 0,

    /// <summary>A string literal.</summary>
    Text = 1,

    /// <summary>A numeric literal (IEEE double).</summary>
    Number = 2,

    /// <summary>A boolean literal.</summary>
    Boolean = 3,

    /// <summary>A date-time literal, kept in UTC.</summary>
    DateTime = 4,
}

/// <summary>
/// One node of the graph or one predicate: an entity name or a typed literal. Terms are compared by kind and
/// canonical lexical form; ordering (<see cref="CompareTo"/>) is by kind, then by value (numbers numerically,
/// date-times chronologically, strings and names ordinally).
/// </summary>
public sealed class Term : IEquatable<Term>, IComparable<Term>
{
    private const string DateTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private readonly double _number;
    private readonly long _ticks;

    private Term(TermKind kind, string lexical, double number, long ticks = 0)
    {
        Kind = kind;
        Lexical = lexical;
        _number = number;
        _ticks = ticks;
    }

    /// <summary>The kind of term.</summary>
    public TermKind Kind { get; }

    /// <summary>The canonical lexical form (the name, the string, the number in round-trip form, <c>true</c>/<c>false</c>, or ISO-8601 UTC).</summary>
    public string Lexical { get; }

    /// <summary>True for literals (everything but <see cref="TermKind.Name"/>).</summary>
    public bool IsLiteral => Kind != TermKind.Name;

    /// <summary>An entity, class or predicate name.</summary>
    /// <param name="name">The name; not empty.</param>
    /// <returns>The term.</returns>
    public static Term Name(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new Term(TermKind.Name, name, 0);
    }

    /// <summary>A string literal.</summary>
    /// <param name="value">The string.</param>
    /// <returns>The term.</returns>
    public static Term Text(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new Term(TermKind.Text, value, 0);
    }

    /// <summary>A numeric literal.</summary>
    /// <param name="value">A finite number.</param>
    /// <returns>The term.</returns>
    public static Term Number(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Numeric literals must be finite.");
        }

        if (value == 0)
        {
            value = 0; // one canonical zero (no -0)
        }

        return new Term(TermKind.Number, value.ToString("R", CultureInfo.InvariantCulture), value);
    }

    /// <summary>A boolean literal.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The term.</returns>
    public static Term Boolean(bool value) => new(TermKind.Boolean, value ? "true" : "false", value ? 1 : 0);

    /// <summary>A date-time literal, converted to UTC.</summary>
    /// <param name="value">The instant.</param>
    /// <returns>The term.</returns>
    public static Term DateTime(DateTimeOffset value) =>
        new(TermKind.DateTime, value.UtcDateTime.ToString(DateTimeFormat, CultureInfo.InvariantCulture), 0, value.UtcTicks);

    /// <summary>Rebuilds a term from its kind and canonical lexical form (as stored).</summary>
    /// <param name="kind">The kind.</param>
    /// <param name="lexical">The lexical form.</param>
    /// <returns>The term.</returns>
    /// <exception cref="FormatException">The lexical form is not valid for the kind.</exception>
    public static Term FromLexical(TermKind kind, string lexical)
    {
        ArgumentNullException.ThrowIfNull(lexical);
        return kind switch
        {
            TermKind.Name => Name(lexical),
            TermKind.Text => Text(lexical),
            TermKind.Number => Number(double.Parse(lexical, NumberStyles.Float, CultureInfo.InvariantCulture)),
            TermKind.Boolean => lexical switch
            {
                "true" => Boolean(true),
                "false" => Boolean(false),
                _ => throw new FormatException($"'{lexical}' is not a boolean literal."),
            },
            TermKind.DateTime => DateTime(DateTimeOffset.Parse(lexical, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)),
            _ => throw new FormatException($"Unknown term kind {(int)kind}."),
        };
    }

    /// <summary>The numeric value of a number literal.</summary>
    /// <returns>The number.</returns>
    /// <exception cref="InvalidOperationException">The term is not a number.</exception>
    public double AsNumber() => Kind == TermKind.Number ? _number : throw new InvalidOperationException($"{this} is not a number.");

    /// <summary>The value of a boolean literal.</summary>
    /// <returns>The boolean.</returns>
    /// <exception cref="InvalidOperationException">The term is not a boolean.</exception>
    public bool AsBoolean() => Kind == TermKind.Boolean ? _number != 0 : throw new InvalidOperationException($"{this} is not a boolean.");

    /// <summary>The value of a date-time literal (UTC).</summary>
    /// <returns>The instant.</returns>
    /// <exception cref="InvalidOperationException">The term is not a date-time.</exception>
    public DateTimeOffset AsDateTime() =>
        Kind == TermKind.DateTime ? new DateTimeOffset(_ticks, TimeSpan.Zero) : throw new InvalidOperationException($"{this} is not a date-time.");

    /// <inheritdoc />
    public bool Equals(Term? other) => other is not null && other.Kind == Kind && string.Equals(other.Lexical, Lexical, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Term);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(Lexical));

    /// <inheritdoc />
    public int CompareTo(Term? other)
    {
        if (other is null)
        {
            return 1;
        }

        if (Kind != other.Kind)
        {
            return Kind.CompareTo(other.Kind);
        }

        return Kind switch
        {
            TermKind.Number or TermKind.Boolean => _number.CompareTo(other._number),
            TermKind.DateTime => _ticks.CompareTo(other._ticks),
            _ => string.CompareOrdinal(Lexical, other.Lexical),
        };
    }

    /// <summary>The name, or the literal in query syntax (<c>'text'</c>, <c>42</c>, <c>true</c>, <c>@2024-01-01T00:00:00.0000000Z</c>).</summary>
    /// <returns>The display form.</returns>
    public override string ToString() => Kind switch
    {
        TermKind.Text => "'" + Lexical.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        TermKind.DateTime => "@" + Lexical,
        _ => Lexical,
    };

    /// <summary>Equality by kind and lexical form.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if equal.</returns>
    public static bool operator ==(Term? left, Term? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality by kind and lexical form.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if different.</returns>
    public static bool operator !=(Term? left, Term? right) => !(left == right);

    /// <summary>Ordering by <see cref="CompareTo"/>.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if left sorts first.</returns>
    public static bool operator <(Term? left, Term? right) => left is null ? right is not null : left.CompareTo(right) < 0;

    /// <summary>Ordering by <see cref="CompareTo"/>.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if left sorts first or equal.</returns>
    public static bool operator <=(Term? left, Term? right) => left is null || left.CompareTo(right) <= 0;

    /// <summary>Ordering by <see cref="CompareTo"/>.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if left sorts last.</returns>
    public static bool operator >(Term? left, Term? right) => left is not null && left.CompareTo(right) > 0;

    /// <summary>Ordering by <see cref="CompareTo"/>.</summary>
    /// <param name="left">A term.</param>
    /// <param name="right">Another term.</param>
    /// <returns>True if left sorts last or equal.</returns>
    public static bool operator >=(Term? left, Term? right) => left is null ? right is null : left.CompareTo(right) >= 0;
}

/// <summary>A statement: subject, predicate, object.</summary>
/// <param name="Subject">The subject (normally a name).</param>
/// <param name="Predicate">The predicate (a name).</param>
/// <param name="Object">The object (a name or a literal).</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Subject/predicate/object is the standard triple vocabulary.")]
public readonly record struct Triple(Term Subject, Term Predicate, Term Object)
{
    /// <summary>A triple between names: <c>Triple.Of("Phones", "complementedBy", "PhoneCases")</c>.</summary>
    /// <param name="subject">Subject name.</param>
    /// <param name="predicate">Predicate name.</param>
    /// <param name="obj">Object name.</param>
    /// <returns>The triple.</returns>
    public static Triple Of(string subject, string predicate, string obj) => new(Term.Name(subject), Term.Name(predicate), Term.Name(obj));

    /// <inheritdoc />
    public override string ToString() => $"{Subject} {Predicate} {Object}";
}

/// <summary>The names of the predicates and classes the importers write and the Cypher subset maps to.</summary>
public static class Vocabulary
{
    /// <summary><c>type</c>: entity → class (Cypher node labels).</summary>
    public static readonly Term Type = Term.Name("type");

    /// <summary><c>name</c>: entity → string literal.</summary>
    public static readonly Term NameProperty = Term.Name("name");

    /// <summary><c>subClassOf</c>: category → parent category.</summary>
    public static readonly Term SubClassOf = Term.Name("subClassOf");

    /// <summary><c>googleId</c>: taxonomy category → its Google id (number).</summary>
    public static readonly Term GoogleId = Term.Name("googleId");

    /// <summary><c>path</c>: taxonomy category → its full path (<c>A &gt; B &gt; C</c>).</summary>
    public static readonly Term Path = Term.Name("path");

    /// <summary><c>depth</c>: taxonomy category → its depth (number; top-level = 1, the root = 0).</summary>
    public static readonly Term Depth = Term.Name("depth");

    /// <summary><c>inCategory</c>: product → taxonomy category it was mapped onto.</summary>
    public static readonly Term InCategory = Term.Name("inCategory");

    /// <summary><c>department</c>: product → catalogue department (string).</summary>
    public static readonly Term Department = Term.Name("department");

    /// <summary><c>commodity</c>: product → catalogue commodity/category (string).</summary>
    public static readonly Term Commodity = Term.Name("commodity");

    /// <summary><c>interestedIn</c>: customer → category (aggregated interest edge).</summary>
    public static readonly Term InterestedIn = Term.Name("interestedIn");

    /// <summary><c>customer</c>: interest node → customer.</summary>
    public static readonly Term Customer = Term.Name("customer");

    /// <summary><c>category</c>: interest node → category.</summary>
    public static readonly Term Category = Term.Name("category");

    /// <summary><c>weight</c>: interest node → summed weight (number).</summary>
    public static readonly Term Weight = Term.Name("weight");

    /// <summary><c>count</c>: interest node → number of events aggregated (number).</summary>
    public static readonly Term Count = Term.Name("count");

    /// <summary><c>lastSeen</c>: interest node → time of the latest observation (Unix milliseconds, number).</summary>
    public static readonly Term LastSeen = Term.Name("lastSeen");

    /// <summary>Class <c>Category</c> (taxonomy nodes).</summary>
    public static readonly Term CategoryClass = Term.Name("Category");

    /// <summary>Class <c>Product</c>.</summary>
    public static readonly Term ProductClass = Term.Name("Product");

    /// <summary>Class <c>Customer</c>.</summary>
    public static readonly Term CustomerClass = Term.Name("Customer");

    /// <summary>Class <c>Interest</c> (aggregated interest nodes).</summary>
    public static readonly Term InterestClass = Term.Name("Interest");
}
