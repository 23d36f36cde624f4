namespace EdgeProfile.Hub.Segments;

/// <summary>A test on a profile that takes one text argument, e.g. <c>has_tag("vip")</c>.</summary>
public enum SegmentFunction
{
    /// <summary><c>has_tag("name")</c>: a store reported the tag.</summary>
    HasTag,

    /// <summary><c>channel("app")</c>: the customer was seen on the channel.</summary>
    Channel,

    /// <summary><c>category_prefix("Baby")</c>: <c>last_category</c> starts with the text.</summary>
    CategoryPrefix,

    /// <summary><c>searched("backpack")</c>: a recent search contains the text.</summary>
    Searched,
}
