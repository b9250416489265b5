/** COS and S3 both allow at most 1000 keys per list page and per multi-delete. Its own file: no SDK import. */
export const COS_PAGE_SIZE = 1000;
