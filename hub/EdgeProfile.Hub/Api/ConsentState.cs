namespace EdgeProfile.Hub.Api;

/// <summary>
/// What a customer's data may be used for, per purpose (true: granted). A profile's consent is withdrawn for a purpose
/// when it is withdrawn under any of its identifiers; the hub and every store honour it.
/// </summary>
/// <param name="Analytics">Features, segments and reporting.</param>
/// <param name="Personalisation">Tags, interests and recommendations shown to staff and apps.</param>
/// <param name="Training">Training sets and federated learning rounds.</param>
public sealed record ConsentState(bool Analytics = true, bool Personalisation = true, bool Training = true)
{
    /// <summary>Everything granted (nothing recorded).</summary>
    public static ConsentState Granted { get; } = new();
}

/// <summary><c>PUT /api/consent/{key}</c>: purposes to change; absent ones stay as they are.</summary>
/// <param name="Analytics">Grant (true) or withdraw (false) analytics.</param>
/// <param name="Personalisation">Grant or withdraw personalisation.</param>
/// <param name="Training">Grant or withdraw training.</param>
/// <param name="Source">Who recorded it (e.g. crm, app, store-001); default operator.</param>
public sealed record ConsentChange(bool? Analytics, bool? Personalisation, bool? Training, string? Source);
