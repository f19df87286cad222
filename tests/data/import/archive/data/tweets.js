window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "id_str" : "1001",
      "created_at" : "Wed Oct 10 20:19:24 +0000 2018",
      "full_text" : "Why night trains came back (https://t.co/AbCdE1): a short thread 🧵 1/",
      "lang" : "en",
      "display_text_range" : [ "0", "66" ],
      "entities" : {
        "hashtags" : [ ],
        "user_mentions" : [ ],
        "urls" : [
          { "url" : "https://t.co/AbCdE1", "expanded_url" : "https://example.com/night-trains", "display_url" : "example.com/night-trains", "indices" : [ "48", "67" ] }
        ]
      }
    }
  },
  {
    "tweet" : {
      "id_str" : "1002",
      "created_at" : "Wed Oct 10 20:21:02 +0000 2018",
      "full_text" : "Sleeper cars cost more per seat &amp; earn less per night, yet they fill up. 2/ https://t.co/PhOtO2",
      "lang" : "en",
      "in_reply_to_status_id_str" : "1001",
      "in_reply_to_user_id_str" : "42",
      "in_reply_to_screen_name" : "synthetic_author",
      "display_text_range" : [ "0", "79" ],
      "entities" : {
        "urls" : [ ],
        "media" : [
          { "url" : "https://t.co/PhOtO2", "expanded_url" : "https://x.com/synthetic_author/status/1002/photo/1", "media_url" : "http://pbs.twimg.com/media/SleeperA.png", "media_url_https" : "https://pbs.twimg.com/media/SleeperA.png", "type" : "photo" }
        ]
      },
      "extended_entities" : {
        "media" : [
          { "url" : "https://t.co/PhOtO2", "expanded_url" : "https://x.com/synthetic_author/status/1002/photo/1", "media_url" : "http://pbs.twimg.com/media/SleeperA.png", "media_url_https" : "https://pbs.twimg.com/media/SleeperA.png", "type" : "photo", "ext_alt_text" : "A sleeper compartment with two [folded] bunks" },
          { "url" : "https://t.co/PhOtO2", "expanded_url" : "https://x.com/synthetic_author/status/1002/photo/2", "media_url" : "http://pbs.twimg.com/media/MapB.jpg", "media_url_https" : "https://pbs.twimg.com/media/MapB.jpg", "type" : "photo" }
        ]
      }
    }
  },
  {
    "tweet" : {
      "id_str" : "1003",
      "created_at" : "Wed Oct 10 20:24:40 +0000 2018",
      "full_text" : "Thanks to @SomeName for the figures &lt;3 — and read the report: https://t.co/RePoRt3 3/3",
      "lang" : "en",
      "in_reply_to_status_id_str" : "1002",
      "in_reply_to_user_id_str" : "42",
      "in_reply_to_screen_name" : "synthetic_author",
      "entities" : {
        "user_mentions" : [ { "screen_name" : "SomeName", "id_str" : "7", "indices" : [ "10", "19" ] } ],
        "urls" : [
          { "url" : "https://t.co/RePoRt3", "expanded_url" : "https://example.org/reports/rail?year=2018&lang=en", "indices" : [ "63", "86" ] }
        ]
      }
    }
  },
  {
    "tweet" : {
      "id_str" : "2001",
      "created_at" : "Fri Mar 01 08:00:00 +0000 2019",
      "full_text" : "Pourquoi les villes achètent des caméras ? Un fil. #surveillance",
      "lang" : "fr",
      "entities" : { "hashtags" : [ { "text" : "surveillance" } ], "urls" : [ ] }
    }
  },
  {
    "tweet" : {
      "id_str" : "2002",
      "created_at" : "Fri Mar 01 08:03:00 +0000 2019",
      "full_text" : "Les chiffres : https://t.co/ChIfFr (rapport 2019)",
      "lang" : "fr",
      "in_reply_to_status_id_str" : "2001",
      "in_reply_to_user_id_str" : "42",
      "entities" : {
        "urls" : [ { "url" : "https://t.co/ChIfFr", "expanded_url" : "https://example.org/rapport-2019" } ]
      }
    }
  },
  {
    "tweet" : {
      "id_str" : "2003",
      "created_at" : "Fri Mar 01 08:05:00 +0000 2019",
      "full_text" : "👀 https://t.co/ViDeO4",
      "lang" : "und",
      "in_reply_to_status_id_str" : "2002",
      "in_reply_to_user_id_str" : "42",
      "entities" : { "urls" : [ ] },
      "extended_entities" : {
        "media" : [
          { "url" : "https://t.co/ViDeO4", "expanded_url" : "https://x.com/synthetic_author/status/2003/video/1", "media_url" : "http://pbs.twimg.com/ext_tw_video_thumb/2003/pu/img/Thumb.jpg", "type" : "video" }
        ]
      }
    }
  },
  {
    "tweet" : {
      "id_str" : "3001",
      "created_at" : "Sat Jun 15 12:00:00 +0000 2019",
      "full_text" : "@other_person Agreed, and here is why.",
      "lang" : "en",
      "in_reply_to_status_id_str" : "999",
      "in_reply_to_user_id_str" : "77",
      "in_reply_to_screen_name" : "other_person",
      "display_text_range" : [ "14", "38" ],
      "entities" : { "urls" : [ ] }
    }
  },
  {
    "tweet" : {
      "id_str" : "3002",
      "created_at" : "Sat Jun 15 12:02:00 +0000 2019",
      "full_text" : "Trains run on time when the timetable leaves slack.",
      "lang" : "en",
      "in_reply_to_status_id_str" : "3001",
      "in_reply_to_user_id_str" : "42",
      "entities" : { "urls" : [ ] }
    }
  },
  {
    "tweet" : {
      "id_str" : "3101",
      "created_at" : "Sun Jun 16 09:00:00 +0000 2019",
      "full_text" : "@other_person Not a thread, just a reply.",
      "lang" : "en",
      "in_reply_to_status_id_str" : "998",
      "in_reply_to_user_id_str" : "77",
      "in_reply_to_screen_name" : "other_person",
      "display_text_range" : [ "14", "41" ],
      "entities" : { "urls" : [ ] }
    }
  },
  {
    "tweet" : {
      "id_str" : "4001",
      "created_at" : "Mon Jul 01 10:00:00 +0000 2019",
      "full_text" : "Just one tweet, on its own.",
      "lang" : "en",
      "entities" : { "urls" : [ ] }
    }
  }
]
